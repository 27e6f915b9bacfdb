/** A new state of a key, as posted: the newest version wins. */
export interface EventState {
  version: number;
  data: unknown;
}

/** What GET /events/:key answers. */
export interface KeyEventsView {
  key: string;
  /** The last state the downstream received (null before the first push ends). */
  state: EventState | null;
  /** Pushes the downstream received for this key. */
  pushes: number;
  /** Events posted for this key. */
  events: number;
  /** The newest version posted. */
  latestVersion: number;
  /** True while a push is running or waiting; when false the downstream has the newest state. */
  pending: boolean;
  /** Pushes that started while another push of this key was running (always 0 with @MergeWrites). */
  overlaps: number;
}

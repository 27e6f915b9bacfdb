export interface TokenDto {
  region: string;
  business: string;
  token: string;
  issuedAt: string;
}

/** One value of the progress stream: waiting ticks, then the issued token. */
export type TokenProgress =
  { status: 'waiting'; elapsedMs: number } | ({ status: 'issued' } & TokenDto);

export interface BackendCalls {
  total: number;
  /** Calls per region asked for, unsupported ones included. */
  byRegion: Record<string, number>;
}

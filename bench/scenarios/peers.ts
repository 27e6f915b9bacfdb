/**
 * Group.do and the Map baseline against other in-flight dedupe tools (set up in bench/peers.ts),
 * through the core workloads (bench/scenarios/core.ts), in the same process, interleaved.
 *
 *   PEER-A  200k calls, each its own key (A).
 *   PEER-B  200 waves x 1000 concurrent callers of one key (B). Each wave has a key of its own
 *           (`hot:0` .. `hot:199`, for every contender), since the peers that store values would
 *           answer a later wave from their cache.
 *   PEER-C  100k calls over 1000 Zipf keys, batches of 1000 (C). Each batch has keys of its own
 *           (`<batch>:item:<k>`) for the same reason; the expected executions are the same.
 *   PEER-E  heap bytes per waiting joiner, 100k joiners of one pending flight (E).
 *
 * The check column says how often the work ran: a contender that runs it more than once per
 * concurrent burst fails its row. Nothing here has a target: the rows are for information.
 */
import { type Contender, registerScenario } from '../harness.js';
import {
  BATCH,
  type ContenderOf,
  E_JOINERS,
  WAVES,
  WAVE_CALLERS,
  batchesOf,
  joinersOf,
  wavesOf,
  zipfRanks,
} from '../workloads.js';
import { type Peer, own, peers } from '../peers.js';

const everyone: readonly Peer[] = [...own, ...peers];
/**
 * Rounds when the run gives no --rounds: bentocache's runs are long (seconds), and 9 rounds keep
 * the four scenarios near 5 minutes on 2 cores.
 */
const PEER_ROUNDS = 9;

/** A contender per tool, each with its own driver, each run on a fresh instance. */
function contenders(contenderOf: ContenderOf): Contender[] {
  return everyone.map((peer) => contenderOf(peer.name, peer.make));
}

// ---------------------------------------------------------------------------------------------
// PEER-A: unique keys
// ---------------------------------------------------------------------------------------------

const A_CALLS = 200_000;
const unique = batchesOf(Array.from({ length: A_CALLS }, (_, i) => `user:${i}`));

registerScenario({
  id: 'PEER-A',
  title: 'peers: 200k unique keys (every call leads its own flight)',
  unit: 'ns',
  per: 'call',
  ops: A_CALLS,
  rounds: PEER_ROUNDS,
  contenders: contenders(unique),
});

// ---------------------------------------------------------------------------------------------
// PEER-B: waves of concurrent callers, a key per wave
// ---------------------------------------------------------------------------------------------

const waveKeys = Array.from({ length: WAVES }, (_, w) => `hot:${w}`);

registerScenario({
  id: 'PEER-B',
  title: `peers: ${WAVES} waves x ${WAVE_CALLERS} concurrent callers of one key (a key per wave)`,
  unit: 'ns',
  per: 'call',
  ops: WAVES * WAVE_CALLERS,
  rounds: PEER_ROUNDS,
  contenders: contenders(wavesOf((wave) => waveKeys[wave]!)),
});

// ---------------------------------------------------------------------------------------------
// PEER-C: Zipf-skewed keys, keys of their own per batch
// ---------------------------------------------------------------------------------------------

const C_CALLS = 100_000;
const C_KEYS = 1000;
const ZIPF_S = 1.1;

const zipf = batchesOf(
  zipfRanks(C_CALLS, C_KEYS, ZIPF_S, 0x5eed).map(
    (rank, i) => `${Math.floor(i / BATCH)}:item:${rank}`,
  ),
);

registerScenario({
  id: 'PEER-C',
  title: `peers: ${C_CALLS / 1000}k calls over ${C_KEYS} Zipf keys (s=${ZIPF_S}), batches of ${BATCH} (keys per batch)`,
  unit: 'ns',
  per: 'call',
  ops: C_CALLS,
  rounds: PEER_ROUNDS,
  contenders: contenders(zipf),
});

// ---------------------------------------------------------------------------------------------
// PEER-E: heap per waiting joiner
// ---------------------------------------------------------------------------------------------

registerScenario({
  id: 'PEER-E',
  title: `peers: heap per waiting joiner (${E_JOINERS / 1000}k joiners of one pending flight)`,
  unit: 'bytes',
  per: 'joiner',
  ops: E_JOINERS,
  rounds: PEER_ROUNDS,
  contenders: contenders(joinersOf(false)),
});

// The one vocabulary of read bounds. Every read answers how old its copy is (`ageMs`) and which version
// it saw; every read accepts the same two bounds, and each tier says what its version is (an integer
// for strong data, a vector clock for eventual data).

export interface ReadBound<Version> {
  /** Serve a copy at most this old (ms, compared with the read's ageMs), else refresh or fail. */
  maxAgeMs?: number;
  /** The read reflects at least this version (read-your-writes), else StalenessBoundError. */
  minVersion?: Version;
}

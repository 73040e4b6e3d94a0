/** Counting fuzz outcomes: every input is run through `record`, which never lets an exception escape. */

/** Outcome of one input: refused as it must be, the genuine input accepted, or a finding. */
export type Verdict = "rejected" | "valid" | "accepted" | "crash"

export interface FuzzTally {
  readonly target: string
  inputs: number
  crashes: number
  accepted: number
  /** First few offending inputs (truncated), for the failure message. */
  readonly findings: Array<string>
}

export const newTally = (target: string): FuzzTally => ({
  target,
  inputs: 0,
  crashes: 0,
  accepted: 0,
  findings: []
})

const describeInput = (input: unknown): string => {
  try {
    return (JSON.stringify(input) ?? String(input)).slice(0, 300)
  } catch {
    return String(input).slice(0, 300)
  }
}

/** Runs one check; a thrown exception counts as a crash. */
export const record = (tally: FuzzTally, check: () => Verdict, input: unknown): void => {
  tally.inputs++
  let verdict: Verdict
  try {
    verdict = check()
  } catch {
    verdict = "crash"
  }
  countVerdict(tally, verdict, input)
}

/** Counts an already computed verdict (for asynchronous checks). */
export const countVerdict = (tally: FuzzTally, verdict: Verdict, input: unknown): void => {
  if (verdict === "crash") tally.crashes++
  if (verdict === "accepted") tally.accepted++
  if ((verdict === "crash" || verdict === "accepted") && tally.findings.length < 20) {
    tally.findings.push(`${verdict}: ${describeInput(input)}`)
  }
}

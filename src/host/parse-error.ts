// Output from a host tool that farmctl cannot make sense of: a bug or an unsupported version.
import { EXIT, FarmError } from "../api/errors.js";

export function unexpectedOutput(tool: string, detail: string, sample?: string): FarmError {
  return new FarmError(
    "unexpected_output",
    `unexpected output from ${tool}: ${detail}`,
    EXIT.internal,
    `check that ${tool} is a version farmctl supports`,
    sample === undefined ? { tool } : { tool, sample: sample.slice(0, 500) },
  );
}

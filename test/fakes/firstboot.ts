// A minimal stand-in for h-customize's parser of the first-boot block (issue 9), behind the same
// signature, for the identity step's tests: cloud-init's fingerprint block and the machine-id line.
import type { ParseFirstboot } from "../../src/ops/clone/identity.js";

const LINE = /^(\d+) (SHA256:[A-Za-z0-9+/]{43}) (.*) \(([A-Z0-9-]+)\)$/;

export const parseFirstboot: ParseFirstboot = (text) => {
  const block =
    /-----BEGIN SSH HOST KEY FINGERPRINTS-----\n([\s\S]*?)-----END SSH HOST KEY FINGERPRINTS-----\n/.exec(
      text,
    );
  const machineId = /^farm-firstboot: machine-id ([0-9a-f]{32})$/m.exec(text)?.[1];
  if (!block || !machineId) return null;
  const keys = block[1]!
    .split("\n")
    .map((l) => LINE.exec(l))
    .flatMap((m) =>
      m ? [{ bits: Number(m[1]), fingerprint: m[2]!, comment: m[3]!, type: m[4]! }] : [],
    );
  return { machineId, keys };
};

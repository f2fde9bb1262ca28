// gallifrey-dev as member `dev` of farm rel-3-2: the membership farmd's `farm up` gives its clone.
import type { FarmMembership } from "../../src/api/clone.js";

export function devMember(vars: Record<string, string>): FarmMembership {
  return {
    farm: "rel-3-2",
    member: "dev",
    specHash: "h1",
    spec: {
      key: "dev",
      platform: null,
      name: "gallifrey-dev",
      source: "gallifrey",
      start: true,
      protect: false,
      vars,
    },
  };
}

// The simulated host01 with a thin pool: gallifrey's disk made a thin LV of pool `pool` (or left
// thick), as lvs-2.03.16-json-thin-base.txt shows such a VG.
import type { FakeHostRunner } from "./fake-host-runner.js";

const SOURCE = "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0";

/** Adds the 6 GiB pool; gallifrey's disk goes into it unless `sourceThin` is false. Its name. */
export function makeThin(
  runner: FakeHostRunner,
  { dataPercent = "10.31", sourceThin = true, sizeBytes = 2 ** 30 } = {},
): string {
  runner.lvs.set("pool", {
    name: "pool",
    uuid: "P0olTh-1nPo-oLda-taUU-IDxx-AbCd-Ef0001",
    sizeBytes: 6 * 2 ** 30,
    origin: "",
    segtype: "thin-pool",
    dataPercent,
  });
  const src = runner.lvs.get(SOURCE)!;
  src.sizeBytes = sizeBytes;
  if (sourceThin) Object.assign(src, { segtype: "thin", pool: "pool" });
  return SOURCE;
}

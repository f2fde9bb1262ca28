// The simulated host's lvs and vgs reports, in the JSON lvm2 2.03.16 prints (test/recordings/lvs-*,
// vgs-*; thin LVs and pools as in lvs-2.03.16-json-thin*.txt), for every field farmd asks.
import type { FakeLv } from "./fake-host-runner.js";

const VG_SIZE = 42945478656;
const EXTENT = 4194304;

export function lvsJson(lvs: Map<string, FakeLv>): string {
  const lv = [...lvs.values()].map((l) => {
    // A thin snapshot is a thin LV with an origin (lvs-2.03.16-json-thin-snap.txt): no "s"/"o".
    const cow = (s: FakeLv) => s.origin === l.name && s.segtype !== "thin";
    const isOrigin = [...lvs.values()].some(cow);
    const attr =
      l.segtype === "thin-pool"
        ? "twi-XXtz--"
        : l.segtype === "thin"
          ? "Vwi-XXtz--"
          : l.origin
            ? "swi-XXs---"
            : isOrigin
              ? "owi-XXs---"
              : "-wi-XX----";
    return {
      lv_name: l.name,
      vg_name: "all",
      lv_uuid: l.uuid,
      lv_size: String(l.sizeBytes),
      lv_attr: attr,
      origin: l.origin,
      lv_path: l.segtype === "thin-pool" ? "" : `/dev/all/${l.name}`,
      data_percent: l.dataPercent ?? (l.origin && !l.segtype ? "0.00" : ""),
      lv_tags: (l.tags ?? []).join(","),
      // the thin report's fields (lvs-2.03.16-json-thinreport-*.txt): no thin pool here
      segtype: l.segtype ?? "linear",
      pool_lv: l.pool ?? "",
      metadata_percent: l.segtype === "thin-pool" ? "4.17" : "",
    };
  });
  return JSON.stringify({ report: [{ lv }] }, null, 2) + "\n";
}

export function vgsJson(lvs: Map<string, FakeLv>): string {
  // A thin LV takes its pool's extents, not the VG's.
  const thick = [...lvs.values()].filter((l) => l.segtype !== "thin");
  const used = thick.reduce((n, l) => n + l.sizeBytes, 0);
  return (
    JSON.stringify({
      report: [
        {
          vg: [
            {
              vg_name: "all",
              vg_size: String(VG_SIZE),
              vg_free: String(VG_SIZE - used),
              vg_extent_size: String(EXTENT),
            },
          ],
        },
      ],
    }) + "\n"
  );
}

// The lvs report farmd runs on VG `all`, answered from a recording of lvm2 2.03.16.
import { recording, type Expectation } from "./scripted-runner.js";

export const LVS_ALL = [
  ...["lvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o"],
  "lv_name,vg_name,lv_uuid,lv_size,lv_attr,origin,lv_path,data_percent,lv_tags",
  "all",
];

/** lvs answered with test/recordings/lvs-2.03.16-json-vg-<name>.txt. */
export const lvsRecorded = (name: string): Expectation => ({
  argv: LVS_ALL,
  stdout: recording(`lvs-2.03.16-json-vg-${name}.txt`),
  stderr: recording(`lvs-2.03.16-json-vg-${name}-stderr.txt`),
});

// Thin pools: lvm2 2.03.16's reports of a thin VG (test/recordings/INDEX-lvm-thin.md).
const GiB = 2 ** 30;
const TAG = "farmd_op_1a2b3c4d";
/** The source VM's disk, a thin LV of pool `pool`. */
export const THIN_SOURCE = "774014d8-5c48-495b-887b-4a970834c7c5.disk0";
export const THIN_REPORT = [
  ...["lvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o"],
  "lv_name,vg_name,lv_uuid,lv_size,segtype,pool_lv,data_percent,metadata_percent",
  "all",
];
/** The thin report answered with lvs-2.03.16-json-thinreport-<c>.txt. */
export const thinReport = (c: string): Expectation => ({
  argv: THIN_REPORT,
  stdout: recording(`lvs-2.03.16-json-thinreport-${c}.txt`),
  stderr: recording("lvs-2.03.16-json-thinreport-base-stderr.txt"),
});
/** The plain lvs list of the thin VG, lvs-2.03.16-json-thin-<c>.txt. */
export const thinList = (c: string): Expectation => ({
  argv: LVS_ALL,
  stdout: recording(`lvs-2.03.16-json-thin-${c}.txt`),
  stderr: recording(`lvs-2.03.16-json-thin-${c}-stderr.txt`),
});
export const SNAPSHOT = [
  ...["lvcreate", "--snapshot", "--setactivationskip", "n", "--name", "gallifrey-dev"],
  ...["--addtag", TAG, `all/${THIN_SOURCE}`],
];
export const THIN_CREATE = [
  ...["lvcreate", "--yes", "--thin", "--virtualsize", `${GiB}b`, "--name", "gallifrey-dev"],
  ...["--addtag", TAG, "all/pool"],
];
export const ACTIVATE = [
  ...["lvchange", "--activate", "y", "--ignoreactivationskip", "all/gallifrey-dev"],
];

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

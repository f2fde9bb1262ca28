// The spec of issue 10 as a release manager writes it, and a helper that resolves TOML text.
import { parse } from "smol-toml";
import type { FarmSpecInput } from "../../../src/api/farm.js";
import { resolveFarm } from "../../../src/ops/farm/resolve.js";

export const ISSUE_SPEC = `
name = "rel-3-2"                      # required; never derived from the file name
required_vars = ["release", "git_rev"]

[vars]
branch = "release/3.2"

[run]
on_error = "continue"                 # continue | stop | atomic
wait = "ssh"                          # started | ssh
wait_timeout = "10m"

[defaults]                            # any clone option: group, memory, balloon, web, start ...
group = "staging"
memory = "4G"
balloon = "1G"
web = false

[platforms.centos-7]
source = "builder-centos7"

[platforms.debian-12]
source = "builder-debian12"
memory = "6G"

[members.build-centos7]
platform = "centos-7"
vars = { sysbase = "centos-7" }

[members.build-debian12]
platform = "debian-12"
vars = { sysbase = "debian-12" }

[members.repo]
source = "reprepro"
name = "rel-3-2-repo"                 # default: <farm>-<member>
web = true
protect = true                        # down refuses it without --force
`;

export const RELEASE_VARS = { release: "3.2.0", git_rev: "4f2a9c1" };

export function input(toml: string, more: Partial<FarmSpecInput> = {}): FarmSpecInput {
  return { spec: parse(toml), file: "rel.toml", vars: RELEASE_VARS, platform: null, ...more };
}

export const resolve = (toml: string, more: Partial<FarmSpecInput> = {}) =>
  resolveFarm(input(toml, more));

/** The message of what `run` throws (the test fails if it throws nothing). */
export function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected a refusal, got none");
}

// The first boot's console block, as the real ssh-keygen prints it (test/recordings), read back.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseFingerprint, parseFirstBoot } from "../../../src/ops/guest/firstboot.js";

const recording = (name: string) =>
  readFileSync(new URL(`../../recordings/${name}`, import.meta.url), "utf8");
const BLOCK = recording("ssh-keygen-9.2p1-firstboot-console.txt");

describe("parseFirstBoot", () => {
  it("reads ssh-keygen -lf's lines and the machine-id from a console full of other lines", () => {
    const console = `[    1.234567] EXT4-fs (vda1): mounted filesystem\r\n${BLOCK.replaceAll("\n", "\r\n")}[  OK  ] Started ssh.service\r\n`;
    expect(parseFirstBoot(console)).toEqual({
      fingerprints: [
        {
          bits: 256,
          fingerprint: "SHA256:Z1acDCLsq9aj5EnwCRlXDwYXhQtJeJ8VoQsK5VHsdLY",
          comment: "root@vm",
          type: "ECDSA",
        },
        {
          bits: 256,
          fingerprint: "SHA256:OIiJRQhBUYXM7ujqiPeB8ww7yWX/nKy34DSAEWoghn4",
          comment: "root@vm",
          type: "ED25519",
        },
        {
          bits: 3072,
          fingerprint: "SHA256:FangV7jwsdmqQGH6Ne1TC/dFsHCgxKdVo2ZLb60JX8Q",
          comment: "root@vm",
          type: "RSA",
        },
      ],
      machineId: "ef0b02d9dba24ba1b414765241829cc5",
    });
  });

  it("skips a kernel line printed inside the block", () => {
    const lines = BLOCK.split("\n");
    lines.splice(2, 0, "[    5.000001] random: crng init done");
    const r = parseFirstBoot(lines.join("\n"))!;
    expect(r.fingerprints.map((f) => f.type)).toEqual(["ECDSA", "ED25519", "RSA"]);
  });

  it("is null until the block is complete; the last block wins after a reboot", () => {
    expect(parseFirstBoot("")).toBeNull();
    expect(parseFirstBoot(BLOCK.split("-----END")[0]!)).toBeNull();
    const second = BLOCK.replace("3072 SHA256:Fang", "4096 SHA256:Fang").replace(
      "ef0b02d9",
      "00000000",
    );
    const r = parseFirstBoot(BLOCK + second)!;
    expect(r.fingerprints[2]!.bits).toBe(4096);
    expect(r.machineId).toBe("00000000dba24ba1b414765241829cc5");
  });

  it("a block without the machine-id line yet gives null for it", () => {
    const r = parseFirstBoot(BLOCK.split("farm-firstboot:")[0]!)!;
    expect(r.machineId).toBeNull();
    expect(r.fingerprints).toHaveLength(3);
  });
});

describe("parseFingerprint", () => {
  it("reads a key without comment and an MD5 fingerprint", () => {
    expect(parseFingerprint(recording("ssh-keygen-9.2p1-lf-no-comment.txt"))).toEqual({
      bits: 256,
      fingerprint: "SHA256:S7PjZO0o/3Q/Tl7lj04tnWUdt0ca6ds7hfuu4VSsvAg",
      comment: "no comment",
      type: "ED25519",
    });
    expect(parseFingerprint(recording("ssh-keygen-9.2p1-lf-md5.txt"))).toMatchObject({
      bits: 3072,
      fingerprint: "MD5:ce:d2:bb:be:f8:d4:f9:86:7c:df:1a:80:a1:91:0f:2f",
      type: "RSA",
    });
    expect(parseFingerprint("[  OK  ] Reached target Multi-User System.")).toBeNull();
  });
});

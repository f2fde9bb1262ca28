// `farmctl doctor`: one line per check of the host, with what to do about anything not ok.

/** warn still passes (exit 0); fail is a clone that will not work until it is fixed (exit 1). */
export type CheckStatus = "ok" | "warn" | "fail";

export interface DoctorCheck {
  /** Stable name, "tool ionice", "template zone-record.njk", "ganeti node". */
  id: string;
  status: CheckStatus;
  /** What was found: a version, a path, the free space, or what is wrong. */
  detail: string;
  /** What to do, when not ok. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

export const ok = (id: string, detail: string): DoctorCheck => ({ id, status: "ok", detail });
export const warn = (id: string, detail: string, fix: string): DoctorCheck => ({
  id,
  status: "warn",
  detail,
  fix,
});
export const fail = (id: string, detail: string, fix: string): DoctorCheck => ({
  id,
  status: "fail",
  detail,
  fix,
});

export const report = (checks: DoctorCheck[]): DoctorReport => ({
  ok: checks.every((c) => c.status !== "fail"),
  checks,
});

// Errors with a stable `code` (clients branch on it), an exit code (sysexits) and a hint naming the fix.

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** A usage error farmctl finds itself (commander's are 2). */
  badUsage: 64,
  dataErr: 65,
  unavailable: 69,
  internal: 70,
  tempFail: 75,
  /** Not allowed: a role, an owner, or the socket's permissions (sysexits EX_NOPERM). */
  noPerm: 77,
} as const;

export interface ErrorJson {
  code: string;
  message: string;
  /** farmctl's exit code for this error, so a client exits as the daemon meant. */
  exitCode?: number;
  hint?: string;
  details?: Record<string, unknown>;
}

export class FarmError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }

  toJSON(): ErrorJson {
    return {
      code: this.code,
      message: this.message,
      exitCode: this.exitCode,
      hint: this.hint,
      details: this.details,
    };
  }
}

/** The user asked for something invalid; nothing was changed. */
export class BadInput extends FarmError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super("bad_input", message, EXIT.dataErr, hint, details);
  }
}

/** A name the user gave is taken somewhere on the host. */
export class AlreadyExists extends FarmError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super("already_exists", message, EXIT.dataErr, hint, details);
  }
}

/** A name the user gave does not exist. */
export class NotFound extends FarmError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super("not_found", message, EXIT.dataErr, hint, details);
  }
}

/** The farmd.toml file is unreadable or invalid. */
export class ConfigError extends FarmError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super("config_invalid", message, 78, hint, details);
  }
}

/** A tool or service farmctl needs is missing or down. */
export class Unavailable extends FarmError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super("unavailable", message, EXIT.unavailable, hint, details);
  }
}

/** Another operation holds a lock; retrying later may work. */
export class Busy extends FarmError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super("busy", message, EXIT.tempFail, hint, details);
  }
}

/** An external command exited non-zero. */
export class CommandFailed extends FarmError {
  constructor(
    readonly argv: readonly string[],
    readonly commandExitCode: number | undefined,
    readonly stderr: string,
    readonly stdout = "",
  ) {
    super(
      "command_failed",
      `command failed (exit ${commandExitCode ?? "signal"}): ${argv.join(" ")}`,
      EXIT.failed,
      stderr.trim() ? lastLines(stderr, 8) : undefined,
      { argv: [...argv], exitCode: commandExitCode, stderr },
    );
  }
}

/** A config file farmctl rendered was refused by the service's own checker. */
export class ValidationFailed extends FarmError {
  constructor(file: string, checker: readonly string[], output: string) {
    super(
      "validation_failed",
      `${file}: rejected by ${checker.join(" ")}`,
      EXIT.failed,
      lastLines(output, 8),
      { file, checker: [...checker], output },
    );
  }
}

/** A step of an operation failed; the operation was rolled back. */
export class OperationFailed extends FarmError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super("operation_failed", message, EXIT.failed, hint, details);
  }
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

/** Anything that is not a FarmError is a bug: exit 70. */
export function asFarmError(err: unknown): FarmError {
  if (err instanceof FarmError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FarmError("internal", `internal error: ${message}`, EXIT.internal);
}

/** Runs a check of one field of a request; a refusal it throws names that field in its details. */
export function forField<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof FarmError) || err.details?.field) throw err;
    throw new FarmError(err.code, err.message, err.exitCode, err.hint, { ...err.details, field });
  }
}

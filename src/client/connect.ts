// The CLI reaches farmd through its TLS listener when a remote is given (--remote, FARMCTL_REMOTE or
// ~/.config/farmctl/config.toml), else through the socket farmd.toml names (--config, FARMD_CONFIG,
// or /etc/farmd).
import { loadConfig } from "../config/load.js";
import { FarmdClient } from "./http.js";
import { remoteCredentials, remoteSettings, type RemoteOptions } from "./remote.js";
import { httpsTransport } from "./transport.js";

/** farmctl's global --remote, --cert, --key and --ca, as parsed before a command runs. */
let globalFlags: RemoteOptions = {};

export function useRemoteFlags(flags: RemoteOptions): void {
  globalFlags = flags;
}

export function connect(opts: { configPath?: string }, env = process.env): FarmdClient {
  const remote = remoteSettings(globalFlags, env);
  if (remote) return new FarmdClient(httpsTransport(remoteCredentials(remote)));
  return new FarmdClient(loadConfig(opts.configPath, env).config.socket);
}

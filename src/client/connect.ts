// The CLI reaches farmd through the socket farmd.toml names (--config, FARMD_CONFIG, or /etc/farmd).
import { loadConfig } from "../config/load.js";
import { FarmdClient } from "./http.js";

export function connect(opts: { configPath?: string }): FarmdClient {
  return new FarmdClient(loadConfig(opts.configPath).config.socket);
}

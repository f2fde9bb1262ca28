// farmd.toml's [api]: the TLS listener is off unless listen is set; each bad value names its key.
import { describe, expect, it } from "vitest";
import { apiNames, apiProblems, parseListen } from "../../src/config/api.js";
import { parseConfig } from "../../src/config/load.js";

const api = (toml: string) => parseConfig(`[api]\n${toml}\n`, "farmd.toml").api;

describe("[api]", () => {
  it("is off by default, with bounded limits", () => {
    expect(parseConfig("", "x").api).toEqual({
      listen: "",
      max_connections: 64,
      handshake_timeout: 10,
      headers_timeout: 10,
      request_timeout: 60,
      idle_timeout: 5,
    });
  });

  it("takes an IPv4, IPv6 or named listen address with its port", () => {
    expect(parseListen("0.0.0.0:8443")).toEqual({ host: "0.0.0.0", port: 8443 });
    expect(parseListen("[::]:8443")).toEqual({ host: "::", port: 8443 });
    expect(parseListen("[fe80::1]:443")).toEqual({ host: "fe80::1", port: 443 });
    expect(parseListen("host01.farm:8443")).toEqual({ host: "host01.farm", port: 8443 });
    for (const bad of ["8443", "0.0.0.0", "h:99999", "[zz]:1", "a b:1", "https://h:1", "::1:8443"])
      expect(parseListen(bad), bad).toBeNull();
    expect(api('listen = "[::]:8443"\nheaders_timeout = "5s"').headers_timeout).toBe(5);
  });

  it("names the server certificate after this host and a specific listen address", () => {
    expect(apiNames(api('listen = "0.0.0.0:8443"'), "Host01")).toEqual(["host01"]);
    expect(apiNames(api('listen = "10.0.0.5:8443"'), "host01")).toEqual(["host01", "10.0.0.5"]);
    expect(apiNames(api('names = ["host01.farm", "10.0.0.5"]'), "x")).toEqual([
      "host01.farm",
      "10.0.0.5",
    ]);
  });

  const BAD: [string, string, RegExp][] = [
    ['listen = "8443"', "api.listen", /HOST:PORT like "0.0.0.0:8443"/],
    ['names = ["Host_01"]', "api.names.0", /DNS name like host01.farm or an IP address/],
    ["names = []", "api.names", /too small|at least/i],
    ["max_connections = 0", "api.max_connections", /too small|>=/i],
    ["request_timeout = 0", "api.request_timeout", /at least 1 second/],
    ['headers_timeout = "2m"', "api.headers_timeout", /at most \[api\] request_timeout \(60 s\)/],
    ['idle_timeout = "soon"', "api.idle_timeout", /whole seconds like "5s"/],
    ["port = 8443", "api", /unknown key\(s\) port/],
  ];
  for (const [toml, key, says] of BAD)
    it(`refuses ${toml}, naming ${key}`, () => {
      expect(() => api(toml)).toThrow(new RegExp(`${key.replace(/\./g, "\\.")}: .*`));
      expect(() => api(toml)).toThrow(says);
    });

  it("wants names set when listening on a host whose name is no DNS name", () => {
    const listening = api('listen = "0.0.0.0:8443"');
    expect(apiProblems(listening, "build_box")).toEqual([
      ["names", expect.stringMatching(/this host's name 'build_box', which is not a DNS name/)],
    ]);
    expect(apiProblems(api(""), "build_box")).toEqual([]);
  });
});

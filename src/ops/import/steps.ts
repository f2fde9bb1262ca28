// `farmctl import NAME`: takes a VM made by hand (like the seed's gallifrey) into the inventory; its
// hand-written config lines, unchanged, are wrapped in farmctl's markers so destroy and audit see them.
import { AlreadyExists, BadInput, NotFound } from "../../api/errors.js";
import type { ImportRequest, ImportResult } from "../../api/vm.js";
import type { VmEntry } from "../../host/confedit/entry.js";
import type { CloneDeps } from "../clone/steps.js";
import { learnEntry } from "../inventory/view.js";
import { checkLabel, parseInstanceName } from "../names.js";
import type { RevertData } from "../ports.js";
import type { SagaStep } from "../saga.js";

export interface ImportCtx {
  opId: string;
  req: ImportRequest;
  deps: CloneDeps;
  entry?: VmEntry;
  lv?: { vg: string; name: string; uuid: string; sizeBytes: number } | null;
  memoryBytes?: number | null;
  warnings: string[];
}

const need = <T>(v: T | undefined): T => {
  if (v === undefined) throw new Error("import step ran before preflight");
  return v;
};

function adoptStep(key: "dns" | "dhcp" | "firewall" | "proxy", title: string): SagaStep<ImportCtx> {
  return {
    name: key,
    title,
    async do(ctx, step) {
      await ctx.deps.families[key].adopt(need(ctx.entry), (revert) => step.record({ revert }));
    },
    async undo(ctx, step) {
      if (ctx.entry)
        await ctx.deps.families[key].unadopt(ctx.entry, step.data.revert as RevertData | undefined);
    },
  };
}

export function importSteps(): SagaStep<ImportCtx>[] {
  return [
    {
      name: "preflight",
      title: "learn the VM from Ganeti and the config files",
      planning: true,
      async do(ctx, step) {
        await importPreflight(ctx);
        step.record({ entry: ctx.entry, lv: ctx.lv, memoryBytes: ctx.memoryBytes });
      },
    },
    adoptStep("dns", "mark its DNS record as farmctl's"),
    adoptStep("dhcp", "mark its DHCP host as farmctl's"),
    adoptStep("firewall", "mark its shorewall rule and param as farmctl's"),
    adoptStep("proxy", "mark its nginx site as farmctl's"),
    {
      name: "record",
      title: "record the VM in the inventory",
      async do(ctx) {
        if (ctx.deps.dryRun) return;
        const e = need(ctx.entry);
        ctx.deps.inventory.reserve(() => ({
          name: e.name,
          group: e.group,
          fqdn: e.fqdn,
          ip: e.ip,
          mac: e.mac,
          sshPort: e.sshPort,
          webName: e.webName ?? null,
          memoryBytes: ctx.memoryBytes ?? null,
          balloonBytes: null,
          vg: ctx.lv?.vg ?? null,
          lvName: ctx.lv?.name ?? null,
          lvUuid: ctx.lv?.uuid ?? null,
          diskBytes: ctx.lv?.sizeBytes ?? null,
          source: null,
          opId: ctx.opId,
        }));
        ctx.deps.inventory.update(e.name, { state: "ready" });
      },
      // Cut short after the record was written (a crash, a journal that could not say done).
      async undo(ctx) {
        if (ctx.entry) ctx.deps.inventory.release(ctx.entry.name, ctx.opId);
      },
    },
  ];
}

async function importPreflight(ctx: ImportCtx): Promise<void> {
  const { deps } = ctx;
  const name = checkLabel(ctx.req.name, "VM name");
  if (deps.inventory.get(name))
    throw new AlreadyExists(`VM '${name}' is already in the inventory`, "`farmctl show` it");
  const matches = (await deps.ganeti.listInstances()).filter(
    (i) => parseInstanceName(i.name, deps.config.names.domain)?.name === name,
  );
  if (matches.length === 0)
    throw new NotFound(
      `no Ganeti instance for '${name}' (looked for ${name}.<group>.${deps.config.names.domain})`,
      "check `gnt-instance list`",
    );
  if (matches.length > 1)
    throw new BadInput(
      `several instances are called '${name}': ${matches.map((m) => m.name).join(", ")}`,
      "import needs one",
    );
  const inst = matches[0]!;
  const learned = await learnEntry(inst, deps);
  if (!learned || learned.entry.ip === "0.0.0.0")
    throw new NotFound(
      `no address for ${inst.name} in the zone or dhcpd.conf`,
      "add its DNS record by hand first",
    );
  if (!learned.entry.mac)
    throw new NotFound(`${inst.name} has no NIC MAC in Ganeti`, "check `gnt-instance info`");
  if (!learned.entry.sshPort)
    throw new NotFound(
      `no shorewall DNAT rule for ${inst.name} ($${learned.entry.shorewallParam})`,
      "add its SSH port forward by hand first",
    );
  ctx.entry = learned.entry;
  ctx.memoryBytes = inst.memoryBytes;
  const disk = (await deps.ganeti.instanceDisks(inst.name))[0];
  const lv = disk && (await deps.lvm.list(disk.vg)).find((l) => l.name === disk.lv);
  ctx.lv = lv ? { vg: lv.vg, name: lv.name, uuid: lv.uuid, sizeBytes: lv.sizeBytes } : null;
}

export function importResult(ctx: ImportCtx): ImportResult {
  const e = need(ctx.entry);
  return {
    opId: ctx.opId,
    name: e.name,
    instance: e.fqdn,
    ip: e.ip,
    mac: e.mac,
    sshPort: e.sshPort,
    webName: e.webName ?? null,
  };
}

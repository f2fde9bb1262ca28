# Writes VG metadata (LVM2 text format, as vgcfgbackup writes it) with a thin pool, for vgcfgrestore --force.
import sys
case = sys.argv[1]
T = 1796282266
def striped(name, lid, status, flags, start, count, extra=""):
    return f'''
		{name} {{
			id = "{lid}"
			status = [{status}]
			flags = [{flags}]
			creation_time = {T}
			creation_host = "host01.farm"
			{extra}segment_count = 1

			segment1 {{
				start_extent = 0
				extent_count = {count}

				type = "striped"
				stripe_count = 1

				stripes = [
					"pv0", {start}
				]
			}}
		}}'''
def thin(name, lid, count, dev, origin=None, tags=None, skip=False, visible=True):
    flags = '"ACTIVATION_SKIP"' if skip else ''
    t = f'tags = [{", ".join(chr(34)+x+chr(34) for x in tags)}]\n\t\t\t' if tags else ''
    o = f'\n\t\t\t\torigin = "{origin}"' if origin else ''
    return f'''
		{name} {{
			id = "{lid}"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = [{flags}]
			{t}creation_time = {T}
			creation_host = "host01.farm"
			segment_count = 1

			segment1 {{
				start_extent = 0
				extent_count = {count}

				type = "thin"
				thin_pool = "pool"
				transaction_id = {dev - 1}
				device_id = {dev}{o}
			}}
		}}'''
lvs = []
# pool: 16 GiB data = 4096 extents? pv has 2047 extents (8G). use 6 GiB = 1536 extents
lvs.append(f'''
		pool {{
			id = "P0olTh-1nPo-oLda-taUU-IDxx-AbCd-Ef0001"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			creation_time = {T}
			creation_host = "host01.farm"
			segment_count = 1

			segment1 {{
				start_extent = 0
				extent_count = 1536

				type = "thin-pool"
				metadata = "pool_tmeta"
				pool = "pool_tdata"
				transaction_id = 3
				chunk_size = 128
				discards = "passdown"
				zero_new_blocks = 1
			}}
		}}''')
# source's disk: 1 GiB thin LV, as Ganeti renamed it on adoption
lvs.append(thin("774014d8-5c48-495b-887b-4a970834c7c5.disk0", "Th1nSr-cDis-k0Ab-CdEf-GhIj-KlMn-OpQr01", 256, 1))
if case == "target":
    lvs.append(thin("gallifrey-dev", "Th1nTg-tGal-lifr-eyDe-vAbC-dEfG-hI0007", 256, 2, tags=["farmd_op_1a2b3c4d"]))
if case in ("snap", "snap-untagged", "adopted"):
    name = "gallifrey-dev" if case != "adopted" else "a5e1c2f0-8b7d-4e3a-9c21-0d4f6b8e7a13.disk0"
    tags = ["farmd_op_1a2b3c4d"] if case != "snap-untagged" else None
    lvs.append(thin(name, "Th1nSn-apGa-llif-reyD-evAb-CdEf-Gh0002", 256, 2, origin="774014d8-5c48-495b-887b-4a970834c7c5.disk0", tags=tags, skip=False))
lvs.append(striped("lvol0_pmspare", "SpAreM-etaL-vol0-pmsp-areA-bCdE-fG0003", '"READ", "WRITE"', '', 0, 2))
lvs.append(striped("pool_tmeta", "PoolMe-taAb-CdEf-GhIj-KlMn-OpQr-St0004", '"READ", "WRITE"', '', 2, 2))
lvs.append(striped("pool_tdata", "PoolDa-taAb-CdEf-GhIj-KlMn-OpQr-St0005", '"READ", "WRITE"', '', 4, 1536))
# a thick LV next to the pool
lvs.append(striped("5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0", "mDuleW-xujX-WVrX-zMSu-WJkL-l2LO-nUs1lW", '"READ", "WRITE", "VISIBLE"', '', 1540, 256))
print(f'''contents = "Text Format Volume Group"
version = 1

description = "farmctl thin recordings: {case}"

creation_host = "host01.farm"
creation_time = {T}

all {{
	id = "XyRLY5-0no8-e8fY-cPqN-Wj7M-C5BO-eJ48iG"
	seqno = 10
	format = "lvm2"
	status = ["RESIZEABLE", "READ", "WRITE"]
	flags = []
	extent_size = 8192
	max_lv = 0
	max_pv = 0
	metadata_copies = 0

	physical_volumes {{

		pv0 {{
			id = "3hSbzp-Xtz4-Ycyf-Ptjr-0wsM-5GEJ-dHYTmd"
			device = "/dev/loop3"

			status = ["ALLOCATABLE"]
			flags = []
			dev_size = 16777216
			pe_start = 2048
			pe_count = 2047
		}}
	}}

	logical_volumes {{
{"".join(lvs)}
	}}

}}''')

# Runs inside record.sh's namespace: the VG, then each case's metadata restored and reported.
LOOP=$1 D=$2 O=$3
mkdir -p $O
pvcreate -q --uuid 3hSbzp-Xtz4-Ycyf-Ptjr-0wsM-5GEJ-dHYTmd --norestorefile $LOOP
vgcreate -q all $LOOP
for c in base snap snap-untagged target; do
  vgcfgrestore --force -f $D/vg-$c.vg all >/dev/null 2>&1 || echo restore failed $c
  lvs --reportformat json --units b --nosuffix -o lv_name,vg_name,lv_uuid,lv_size,lv_attr,origin,lv_path,data_percent,lv_tags all > $O/lvs-json-thin-$c.txt 2> $O/lvs-json-thin-$c-stderr.txt; echo "lvs list $c rc=$?"
  lvs --reportformat json --units b --nosuffix -o lv_name,vg_name,lv_uuid,lv_size,segtype,pool_lv,data_percent,metadata_percent all > $O/lvs-json-thinreport-$c.txt 2> $O/lvs-json-thinreport-$c-stderr.txt; echo "lvs thin $c rc=$?"
done
vgcfgrestore --force -f $D/vg-base.vg all >/dev/null 2>&1
lvcreate --snapshot --setactivationskip n --name gallifrey-dev --addtag farmd_op_1a2b3c4d all/774014d8-5c48-495b-887b-4a970834c7c5.disk0 > $O/lvcreate-thin-snapshot-nodm.txt 2> $O/lvcreate-thin-snapshot-nodm-stderr.txt; echo "snap rc=$?"
lvcreate --yes --thin --virtualsize 1073741824b --name gallifrey-dev --addtag farmd_op_1a2b3c4d all/pool > $O/lvcreate-thin-virtual-nodm.txt 2> $O/lvcreate-thin-virtual-nodm-stderr.txt; echo "virt rc=$?"
lvchange --activate y --ignoreactivationskip all/774014d8-5c48-495b-887b-4a970834c7c5.disk0 > $O/lvchange-activate.txt 2> $O/lvchange-activate-stderr.txt; echo "chg rc=$?"

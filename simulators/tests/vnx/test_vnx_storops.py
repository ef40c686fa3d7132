# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""storops, unmodified, against naviseccli-sim: every operation the VNX modules use,
and every refusal raised as storops' own exception class."""

import pytest

GIB = 1024 ** 3


def make_lun(vnx, storops, name, size_gb=1, thin=True, pool='Pool0'):
    provision = storops.VNXProvisionEnum.THIN if thin else storops.VNXProvisionEnum.THICK
    vnx.get_pool(name=pool).create_lun(name, size_gb=size_gb, provision=provision, ignore_thresholds=True)
    lun = vnx.get_lun(name=name)
    assert lun.existed
    return lun


def test_system_identity(vnx, sim):
    state = sim.state()
    assert vnx.serial == state['serial']
    assert vnx.model == 'VNX5400'
    assert vnx.revision.startswith('05.33')
    # update_nodes_ip learned both SPs from networkadmin
    assert sorted(node.ip for node in vnx.heartbeat.nodes) == ['127.0.0.1', '127.0.0.2']


def test_create_lun_thin_and_thick(vnx, storops, sim):
    thin = make_lun(vnx, storops, 'vol-thin', size_gb=10)
    thick = make_lun(vnx, storops, 'vol-thick', size_gb=3, thin=False)
    assert thin.lun_id != thick.lun_id
    assert thin.wwn != thick.wwn
    assert thin.is_thin_lun is True and thick.is_thin_lun is False
    assert thin.total_capacity_gb == 10.0 and thick.total_capacity_gb == 3.0
    assert thin.pool_name == 'Pool0'
    assert thin.state == 'Ready' and thin.operation == 'None'
    assert thin.is_snap_mount_point is False
    assert vnx.get_lun(lun_id=thick.lun_id).name == 'vol-thick'
    assert sim.lun('vol-thin')['size'] == 10 * GIB


def test_create_lun_with_tier_and_id(vnx, storops):
    pool = vnx.get_pool(name='Pool0')
    # storops sends -l alone when given an id: the array names the LUN itself
    pool.create_lun('ignored', size_gb=1, lun_id=42, tier=storops.VNXTieringEnum.HIGH_AUTO)
    lun = vnx.get_lun(lun_id=42)
    assert lun.name == 'LUN 42'
    assert lun.tier == storops.VNXTieringEnum.HIGH_AUTO


def test_lun_name_in_use(vnx, storops):
    make_lun(vnx, storops, 'dup')
    with pytest.raises(storops.exception.VNXLunNameInUseError):
        make_lun(vnx, storops, 'dup')


def test_unknown_pool(vnx, storops):
    assert vnx.get_pool(name='NoSuchPool').existed is False
    with pytest.raises(storops.exception.VNXPoolNotFoundError):
        storops.vnx.resource.block_pool.VNXPool(name='NoSuchPool', cli=vnx._cli).create_lun('x', size_gb=1)


def test_pool_out_of_space(vnx, storops, sim):
    make_lun(vnx, storops, 'fills', size_gb=6, thin=False, pool='Small')
    before = sim.state()
    with pytest.raises(storops.exception.VNXCreateLunError) as err:
        make_lun(vnx, storops, 'too-big', size_gb=4, thin=False, pool='Small')
    assert 'free capacity' in str(err.value)
    assert sim.state()['luns'] == before['luns']


def test_pool_listing(vnx, storops):
    make_lun(vnx, storops, 'thick5', size_gb=5, thin=False, pool='Small')
    pools = {pool.name: pool for pool in vnx.get_pool()}
    assert set(pools) == {'Pool0', 'Small'}
    small = vnx.get_pool(name='Small')
    assert small.pool_id == 1
    assert small.user_capacity_gbs == 8.0
    assert small.consumed_capacity_gbs == 5.0
    assert small.available_capacity_gbs == 3.0
    assert small.total_subscribed_capacity_gbs == 5.0
    assert small.luns == [vnx.get_lun(name='thick5').lun_id]
    assert vnx.get_pool(pool_id=0).name == 'Pool0'


def test_expand(vnx, storops):
    lun = make_lun(vnx, storops, 'grow', size_gb=2)
    lun.expand(5, ignore_thresholds=True)
    assert vnx.get_lun(name='grow').total_capacity_gb == 5.0
    with pytest.raises(storops.exception.VNXLunExpandSizeError):
        lun.expand(3)


def test_rename_and_modify(vnx, storops):
    lun = make_lun(vnx, storops, 'old')
    lun.name = 'new'
    assert vnx.get_lun(name='new').existed and not vnx.get_lun(name='old').existed
    vnx.get_lun(name='new').tier = storops.VNXTieringEnum.NO_MOVE
    assert vnx.get_lun(name='new').tier == storops.VNXTieringEnum.NO_MOVE


def test_snapshot_create_list_modify_copy_delete(vnx, storops):
    lun = make_lun(vnx, storops, 'src')
    lun.create_snap('s1', allow_rw=True, auto_delete=False)
    snap = vnx.get_snap(name='s1')
    assert snap.existed
    assert snap.source_luns == [lun.lun_id] and snap.primary_luns == [lun.lun_id]
    assert snap.allow_read_write is True and snap.allow_auto_delete is False
    assert snap.attached_luns == []
    assert [s.name for s in lun.get_snap()] == ['s1']

    snap.modify(desc='managed by ansible', allow_rw=False)
    snap = vnx.get_snap(name='s1')
    assert snap.description == 'managed by ansible' and snap.allow_read_write is False

    snap.copy('s1-copy')
    copy = vnx.get_snap(name='s1-copy')
    assert copy.existed and copy.source_luns == [lun.lun_id]
    copy.modify(new_name='renamed', allow_rw=True)
    assert vnx.get_snap(name='renamed').allow_read_write is True
    assert not vnx.get_snap(name='s1-copy').existed

    vnx.get_snap(name='renamed').delete()
    assert not vnx.get_snap(name='renamed').existed
    assert len(vnx.get_snap()) == 1


def test_snapshot_keep_for(vnx, storops):
    lun = make_lun(vnx, storops, 'src')
    lun.create_snap('tmp', allow_rw=True, keep_for='1h')
    snap = vnx.get_snap(name='tmp')
    assert snap.allow_auto_delete is False
    assert snap.expiration_date != 'Never'


def test_keep_for_m_is_months_not_minutes(vnx, storops):
    import datetime
    lun = make_lun(vnx, storops, 'src')
    lun.create_snap('kept', allow_rw=True, keep_for='2m')
    expires = datetime.datetime.strptime(vnx.get_snap(name='kept').expiration_date, '%m/%d/%y %H:%M:%S')
    assert expires - datetime.datetime.now() > datetime.timedelta(days=59)


def test_snapshot_errors(vnx, storops):
    lun = make_lun(vnx, storops, 'src')
    lun.create_snap('s1', allow_rw=True, auto_delete=False)
    with pytest.raises(storops.exception.VNXSnapNameInUseError):
        lun.create_snap('s1', allow_rw=True, auto_delete=False)
    with pytest.raises(storops.exception.VNXCreateSnapResourceNotFoundError):
        storops.vnx.resource.lun.VNXLun(lun_id=999, cli=vnx._cli).create_snap('orphan')
    with pytest.raises(storops.exception.VNXSnapNotExistsError):
        vnx.get_snap(name='nope').delete()
    with pytest.raises(storops.exception.VNXSnapNotExistsError):
        vnx.get_snap(name='nope').copy('nope2')
    with pytest.raises(storops.exception.VNXSnapNameInUseError):
        vnx.get_snap(name='s1').copy('s1')
    assert vnx.get_snap(name='nope').existed is False


def test_255_snapshots_per_lun(vnx, storops, inproc, sim):
    lun = make_lun(vnx, storops, 'busy')
    for i in range(254):
        assert inproc('snap', '-create', '-res', lun.lun_id, '-name', 'snap-%d' % i, '-allowReadWrite', 'yes') == ''
    lun.create_snap('snap-254', allow_rw=True)
    with pytest.raises(storops.exception.VNXCreateSnapError) as err:
        lun.create_snap('snap-255', allow_rw=True)
    assert '255' in str(err.value)
    with pytest.raises(storops.exception.VNXSnapError):
        vnx.get_snap(name='snap-0').copy('snap-0-copy')
    assert len(sim.lun('busy')['snapshots']) == 255
    # another LUN is not limited by this one's snapshots
    make_lun(vnx, storops, 'other').create_snap('fine')


def test_mount_point_attach_detach(vnx, storops):
    lun = make_lun(vnx, storops, 'base')
    lun.create_snap('s1', allow_rw=True)
    smp = lun.create_mount_point(name='smp1')
    smp = vnx.get_lun(name='smp1')
    assert smp.is_snap_mount_point and smp.primary_lun.name == 'base'
    assert smp.attached_snapshot is None
    assert smp.lun_id >= 4096
    assert smp.total_capacity_gb == lun.total_capacity_gb and smp.pool_name == 'Pool0'
    smp.attach_snap('s1')
    smp = vnx.get_lun(name='smp1')
    assert smp.attached_snapshot.name == 's1'
    assert vnx.get_snap(name='s1').attached_luns == [smp.lun_id]
    assert [m.lun_id for m in vnx.get_lun(name='base').snapshot_mount_points] == [smp.lun_id]
    assert [m.name for m in vnx.get_lun(lun_type='Snap')] == ['smp1']

    with pytest.raises(storops.exception.VNXSnapAlreadyMountedError):
        smp.attach_snap('s1')
    with pytest.raises(storops.exception.VNXAttachSnapLunTypeError):
        lun.attach_snap('s1')
    with pytest.raises(storops.exception.VNXDetachSnapLunTypeError):
        lun.detach_snap()
    with pytest.raises(storops.exception.VNXDeleteAttachedSnapError):
        vnx.get_snap(name='s1').delete()

    smp.detach_snap()
    assert vnx.get_lun(name='smp1').attached_snapshot is None
    with pytest.raises(storops.exception.VNXSnapNotAttachedError):
        smp.detach_snap()
    vnx.get_snap(name='s1').delete()


def test_attach_snapshot_of_another_lun(vnx, storops):
    one = make_lun(vnx, storops, 'one')
    two = make_lun(vnx, storops, 'two')
    two.create_snap('of-two', allow_rw=True)
    smp = one.create_mount_point(name='smp-one')
    with pytest.raises(storops.exception.VNXRestoreSnapToMismatchLunError):
        vnx.get_lun(name='smp-one').attach_snap('of-two')
    assert smp is not None


def test_mount_point_name_in_use(vnx, storops):
    lun = make_lun(vnx, storops, 'base')
    lun.create_mount_point(name='taken')
    with pytest.raises(storops.exception.VNXLunNameInUseError):
        lun.create_mount_point(name='taken')
    with pytest.raises(storops.exception.VNXLunNameInUseError):
        lun.create_mount_point(name='base')


def test_destroy_rules(vnx, storops, sim):
    lun = make_lun(vnx, storops, 'base')
    lun.create_snap('s1', allow_rw=True)
    with pytest.raises(storops.exception.VNXLunHasSnapError):
        vnx.get_lun(name='base').delete()
    lun.create_mount_point(name='smp1')
    vnx.get_lun(name='smp1').attach_snap('s1')
    with pytest.raises(storops.exception.VNXLunHasSnapMountPointError):
        vnx.get_lun(name='base').delete(delete_snapshots=True, force_detach=True)
    with pytest.raises(storops.exception.VNXDeleteLunError):
        vnx.get_lun(name='smp1').delete()
    assert sim.lun('smp1') is not None
    # Cinder's delete of a snap copy: the SMP goes, its snapshot stays
    vnx.get_lun(name='smp1').delete(force_detach=True)
    assert vnx.get_snap(name='s1').existed and vnx.get_snap(name='s1').attached_luns == []
    vnx.get_lun(name='base').delete(delete_snapshots=True)
    assert not vnx.get_lun(name='base').existed and not vnx.get_snap(name='s1').existed
    with pytest.raises(storops.exception.VNXLunNotFoundError):
        vnx.get_lun(name='base').delete()


def test_force_delete_clears_everything(vnx, storops, sim):
    lun = make_lun(vnx, storops, 'base')
    for i in range(3):
        lun.create_snap('s%d' % i, allow_rw=True)
        lun.create_mount_point(name='m%d' % i)
        vnx.get_lun(name='m%d' % i).attach_snap('s%d' % i)
    vnx.get_lun(name='base').delete(force=True)
    state = sim.state()
    assert state['luns'] == [] and state['snapshots'] == []


def test_restore(vnx, storops):
    lun = make_lun(vnx, storops, 'base')
    other = make_lun(vnx, storops, 'other')
    lun.create_snap('s1', allow_rw=True)
    other.create_snap('s2', allow_rw=True)
    lun.restore_snap('s1')
    with pytest.raises(storops.exception.VNXRestoreSnapToMismatchLunError):
        lun.restore_snap('s2')
    vnx.get_snap(name='s1').restore(lun.lun_id, backup_snap='before-restore')
    assert vnx.get_snap(name='before-restore').source_luns == [lun.lun_id]


def test_migration_start_progress_complete(vnx, storops, sim):
    """Cinder's full copy: snapshot, SMP, attach, destination LUN, migrate; on completion
    the SMP keeps id, name and WWN and becomes a LUN; the destination is gone."""
    src = make_lun(vnx, storops, 'src', size_gb=4)
    src.create_snap('tmp-snap-1', allow_rw=True, auto_delete=False)
    src.create_mount_point(name='clone')
    smp = vnx.get_lun(name='clone')
    smp.attach_snap('tmp-snap-1')
    dest = make_lun(vnx, storops, 'clone_dest', size_gb=4, thin=False)
    smp_id, smp_wwn = smp.lun_id, smp.wwn

    sim.ctl('config', '--migration-rate-mib-s', '0')
    smp.migrate(dest.lun_id, rate=storops.VNXMigrationRate.HIGH)
    session = vnx.get_migration_session(smp)
    assert session.existed and session.is_migrating
    assert session.source_lu_id == smp_id and session.dest_lu_id == dest.lun_id
    assert session.dest_lu_name == 'clone_dest' and session.percent_complete == 0.0
    assert session.migration_rate == storops.VNXMigrationRate.HIGH
    assert [s.source_lu_name for s in vnx.get_migration_session()] == ['clone']
    # busy while migrating: no delete, no detach, no snapshot, no second migration
    with pytest.raises(storops.exception.VNXLunUsedByFeatureError):
        vnx.get_lun(name='clone').delete()
    with pytest.raises(storops.exception.VNXCreateSnapError):
        vnx.get_lun(name='clone').create_snap('too-soon')
    with pytest.raises(storops.exception.VNXMigrationError):
        vnx.get_lun(name='clone').migrate(dest.lun_id)

    sim.ctl('config', '--migration-rate-mib-s', '1000000')
    session = vnx.get_migration_session(smp)
    assert session.existed is False and session.is_success
    assert len(vnx.get_migration_session()) == 0
    assert vnx.get_lun(lun_id=dest.lun_id).existed is False
    done = vnx.get_lun(name='clone')
    assert (done.lun_id, done.wwn) == (smp_id, smp_wwn)
    assert done.is_snap_mount_point is False and done.attached_snapshot is None
    assert done.is_thin_lun is False
    assert vnx.get_snap(name='tmp-snap-1').attached_luns == []
    assert vnx.get_lun(name='src').snapshot_mount_points == ()
    vnx.get_snap(name='tmp-snap-1').delete()
    vnx.get_lun(name='src').delete()


def test_migration_progress_is_reported(vnx, storops, sim):
    src = make_lun(vnx, storops, 'src', size_gb=1)
    dest = make_lun(vnx, storops, 'dest', size_gb=1)
    sim.ctl('config', '--migration-rate-mib-s', '0')
    src.migrate(dest.lun_id)
    state = sim.state()
    assert state['migrations'][0]['percent_complete'] == 0.0
    assert vnx.get_migration_session(src).time_remaining.endswith('(s)')


def test_migration_errors(vnx, storops, sim):
    src = make_lun(vnx, storops, 'src', size_gb=2)
    small = make_lun(vnx, storops, 'small', size_gb=1)
    exposed = make_lun(vnx, storops, 'exposed', size_gb=2)
    sg = vnx.create_sg('host1')
    sg.attach_alu(exposed, hlu=1)
    with pytest.raises(storops.exception.VNXLunNotMigratingError):
        src.cancel_migrate()
    with pytest.raises(storops.exception.VNXTargetNotReadyError):
        src.migrate(exposed.lun_id)
    with pytest.raises(storops.exception.VNXMigrationError):
        src.migrate(small.lun_id)
    src.create_snap('blocks-migration')
    target = make_lun(vnx, storops, 'target', size_gb=2)
    with pytest.raises(storops.exception.VNXMigrationError):
        src.migrate(target.lun_id)
    assert sim.state()['migrations'] == []
    assert vnx.get_migration_session(src).existed is False


def test_migration_cancel(vnx, storops, sim):
    src = make_lun(vnx, storops, 'src')
    dest = make_lun(vnx, storops, 'dest')
    sim.ctl('config', '--migration-rate-mib-s', '0')
    src.migrate(dest.lun_id)
    src.cancel_migrate()
    assert vnx.get_migration_session(src).existed is False
    assert vnx.get_lun(name='dest').existed and vnx.get_lun(name='src').existed


def test_storage_group(vnx, storops, sim):
    lun = make_lun(vnx, storops, 'exported')
    other = make_lun(vnx, storops, 'other')
    assert vnx.get_sg('far').existed is False
    sg = vnx.create_sg('far')
    with pytest.raises(storops.exception.VNXStorageGroupNameInUseError):
        vnx.create_sg('far')
    sg.connect_host('far')
    sg = vnx.get_sg('far')
    assert sg.existed and sg.alu_hlu_map is None and sg.get_alu_hlu_map() == {}
    assert [pair.host_name for pair in sg.hba_sp_pairs] == ['far']
    assert sg.attach_alu(lun, hlu=7) == 7
    sg = vnx.get_sg('far')
    assert sg.alu_hlu_map == {lun.lun_id: 7}
    assert sg.has_alu(lun) and sg.get_hlu(lun) == 7
    with pytest.raises(storops.exception.VNXAluAlreadyAttachedError):
        vnx.get_sg('far').attach_alu(lun, hlu=8)
    out = vnx._cli.sg_add_hlu('far', 7, other.lun_id)
    with pytest.raises(storops.exception.VNXHluNumberInUseError):
        storops.exception.raise_if_err(out, default=storops.exception.VNXAttachAluError)
    with pytest.raises(storops.exception.VNXLunInStorageGroupError):
        vnx.get_lun(name='exported').delete()
    assert sim.state()['storage_groups'][0]['hlus'] == {'7': lun.lun_id}

    sg = vnx.get_sg('far')
    sg.detach_alu(lun)
    assert vnx.get_sg('far').alu_hlu_map is None
    out = vnx._cli.sg_delete_hlu('far', 7)
    with pytest.raises(storops.exception.VNXDetachAluNotFoundError):
        storops.exception.raise_if_err(out, default=storops.exception.VNXStorageGroupError)

    vnx.get_sg('far').attach_alu(lun, hlu=3)
    vnx.get_lun(name='exported').delete(detach_from_sg=True)
    assert not vnx.get_lun(name='exported').existed
    sg = vnx.get_sg('far')
    sg.disconnect_host('far')
    sg.delete()
    assert vnx.get_sg('far').existed is False
    with pytest.raises(storops.exception.VNXStorageGroupError):
        vnx.get_sg('far').delete()


def test_storage_group_list(vnx, storops):
    lun = make_lun(vnx, storops, 'a')
    vnx.create_sg('g1').attach_alu(lun, hlu=1)
    vnx.create_sg('g2')
    groups = {sg.name: sg for sg in vnx.get_sg()}
    assert set(groups) == {'g1', 'g2'}
    assert groups['g1'].alu_hlu_map == {lun.lun_id: 1}


def test_ndu(vnx):
    assert vnx.is_snap_enabled()
    assert vnx.is_thin_enabled()


def test_wrong_password(sim, storops):
    bad = storops.VNXSystem('127.0.0.1', 'sysadmin', 'wrong', 0, naviseccli=sim.naviseccli, heartbeat_interval=0)
    with pytest.raises(storops.exception.VNXCredentialError):
        bad.get_lun(name='x').existed  # pylint: disable=expression-not-assigned
    wrong_scope = storops.VNXSystem('127.0.0.1', 'sysadmin', 'sysadmin', 1, naviseccli=sim.naviseccli, heartbeat_interval=0)
    with pytest.raises(storops.exception.VNXCredentialError):
        wrong_scope.get_pool()[0]  # pylint: disable=expression-not-assigned


def test_sp_down(sim, storops):
    sim.ctl('sp', '--down', 'a')
    lone = storops.VNXSystem('127.0.0.1', 'sysadmin', 'sysadmin', 0, naviseccli=sim.naviseccli, heartbeat_interval=0)
    with pytest.raises(storops.exception.VNXSystemDownError):
        lone.get_lun(name='x').existed  # pylint: disable=expression-not-assigned
    sim.ctl('sp', '--up', 'a')


def test_sp_failover(sim, storops, vnx):
    assert vnx.serial  # learns SP B's address
    sim.ctl('sp', '--down', 'a')
    assert vnx.get_pool(name='Pool0').existed
    sim.ctl('sp', '--down', 'b')
    with pytest.raises(storops.exception.VNXSystemDownError):
        vnx.get_pool(name='Pool0').existed  # pylint: disable=expression-not-assigned


def test_unknown_array_address(sim, storops):
    nowhere = storops.VNXSystem('10.9.9.9', 'sysadmin', 'sysadmin', 0, naviseccli=sim.naviseccli, heartbeat_interval=0)
    with pytest.raises(storops.exception.VNXSystemDownError):
        nowhere.get_lun(name='x').existed  # pylint: disable=expression-not-assigned


def test_register_initiator_with_setpath(vnx, storops, sim):
    vnx.create_sg('newhost')
    out = vnx._cli.set_path('newhost', 'iqn.2020-01.com.example:newhost', storops.VNXSPEnum.SP_A, 4, '10.1.1.1', 'newhost',
                            vport_id=0)
    assert out == ''
    pairs = vnx.get_sg('newhost').hba_sp_pairs
    assert [(p.host_name, p.uid, p.initiator_ip) for p in pairs] == [('newhost', 'iqn.2020-01.com.example:newhost', '10.1.1.1')]
    assert sim.state()['storage_groups'][0]['hosts'] == ['newhost']


def test_compressed_lun(vnx, storops):
    vnx.get_pool(name='Pool0').create_lun('packed', size_gb=1, provision=storops.VNXProvisionEnum.COMPRESSED)
    lun = vnx.get_lun(name='packed')
    assert lun.is_compressed is True and lun.is_thin_lun is True
    with pytest.raises(storops.exception.VNXCompressionAlreadyEnabledError):
        lun.enable_compression()


def test_expired_snapshot_goes_unless_attached(vnx, storops, inproc):
    lun = make_lun(vnx, storops, 'src')
    lun.create_mount_point(name='holder')
    assert inproc('snap', '-create', '-res', lun.lun_id, '-name', 'gone', '-keepFor', '0m', '-allowReadWrite', 'yes') == ''
    assert inproc('snap', '-create', '-res', lun.lun_id, '-name', 'held', '-allowReadWrite', 'yes') == ''
    vnx.get_lun(name='holder').attach_snap('held')
    vnx.get_snap(name='held').modify(keep_for='0m')
    assert not vnx.get_snap(name='gone').existed
    assert vnx.get_snap(name='held').existed

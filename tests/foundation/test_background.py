"""Background work: one beat only, the checkpoint task, tasks queued after commit."""

import pytest
from django.db import transaction

from audit.verification import read_checkpoints
from mes.beat import BeatAlreadyRunning, _FileLock, _RedisLock


def test_second_beat_refuses_to_start_file_lock(tmp_path):
    first = _FileLock(tmp_path / "beat.lock")
    with pytest.raises(BeatAlreadyRunning):
        _FileLock(tmp_path / "beat.lock")
    assert first


def test_second_beat_refuses_to_start_redis_lock(settings):
    import redis

    url = "redis://127.0.0.1:6379/15"
    settings.CELERY_BEAT_LOCK_KEY = "mes:test:beat-lock"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is required on 127.0.0.1:6379 (make test starts from .ci/run)")
    client.delete(settings.CELERY_BEAT_LOCK_KEY)
    first = _RedisLock(url)
    with pytest.raises(BeatAlreadyRunning):
        _RedisLock(url)
    first.refresh()
    client.delete(settings.CELERY_BEAT_LOCK_KEY)


@pytest.mark.django_db
@pytest.mark.req("AUD-2")
def test_checkpoint_task_writes_the_head_outside_the_database(tmp_path, settings):
    from audit.services import audit_record
    from audit.tasks import audit_checkpoint

    settings.MES_AUDIT_CHECKPOINT_FILE = tmp_path / "cp.jsonl"
    audit_record(action="x.y")
    entry = audit_checkpoint.delay().get()
    assert entry.pop("refusals_recorded") == 0
    assert read_checkpoints() == [entry] and entry["seq"] >= 1 and entry["sig"]


@pytest.mark.django_db(transaction=True)
def test_tasks_are_queued_only_after_commit(tmp_path, settings):
    from mes.tasks import heartbeat

    settings.VAR_DIR = tmp_path
    with transaction.atomic():
        heartbeat.delay_on_commit()
        assert not (tmp_path / "heartbeat").exists()
    assert (tmp_path / "heartbeat").exists()
    with pytest.raises(RuntimeError), transaction.atomic():
        (tmp_path / "heartbeat").unlink()
        heartbeat.delay_on_commit()
        raise RuntimeError("rolled back")
    assert not (tmp_path / "heartbeat").exists()


# The embedded broker (no REDIS_URL) runs in a fresh process: settings are read once at import.
_DECLARE_CELERY_QUEUE = """
import django
django.setup()
from kombu import Exchange, Queue
from mes.celery import app
with app.connection_for_write() as connection:
    Queue("celery", Exchange("celery", "direct"), "celery")(connection.default_channel).declare()
"""


def test_embedded_broker_keeps_its_exchange_table_under_the_var_dir(tmp_path):
    """kombu's filesystem transport writes <exchange>.exchange into ./control unless told otherwise."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    var_dir, cwd = tmp_path / "var", tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(DJANGO_SETTINGS_MODULE="mes.settings", MES_VAR_DIR=str(var_dir), PYTHONPATH=str(repo))
    env.setdefault("SECRET_KEY", "test-only")
    done = subprocess.run(
        [sys.executable, "-c", _DECLARE_CELERY_QUEUE], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert (var_dir / "broker" / "control" / "celery.exchange").is_file()
    assert list(cwd.iterdir()) == []  # nothing written where the process happened to start

# redis-py's Sentinel client (Debian python3-redis), driven by test/sentinel/sentinel.test.ts: writes a counter
# through master_for('mymaster') every 100 ms and prints where each write went, until stdin closes or 40 s pass.
import sys
import time

from redis.sentinel import Sentinel

ports = [int(p) for p in sys.argv[1].split(',')]
sentinel = Sentinel([('127.0.0.1', p) for p in ports], socket_timeout=0.5)
master = sentinel.master_for('mymaster', socket_timeout=0.5)
deadline = time.time() + 40
i = 0
while time.time() < deadline:
    i += 1
    try:
        master.set('py', str(i))
        host, port = master.connection_pool.get_master_address()
        print('ok', port, i, flush=True)
    except Exception as e:  # the failover window: ConnectionError, MasterNotFoundError, ReadOnlyError
        print('err', type(e).__name__, flush=True)
    time.sleep(0.1)

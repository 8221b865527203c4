// The AI module's INFO fields (spec §7, "INFO MODULES"): RedisAI's sections ai_versions, ai_git,
// ai_load_time_configs, ai_backends_info and ai_cpu, in that order, registered as the `ai` module's sections
// (src/node/info.ts): INFO MODULES shows them after the module list, INFO ai on their own.
// Values never contain ':' or whitespace (RedisAI's test parser splits on both); a device name's ':' becomes '_'.

import type { InfoSections } from '../node/info';
import type { Server } from '../node/server';
import { aiRuntime } from './model';
import { registerAiQueues } from '../node/memory';

type Line = [string, string | number];

/** onnxruntime-node's version, read from its package.json (the main thread never loads the runtime itself). */
function onnxruntimeVersion(): string {
  try {
    return String((require('onnxruntime-node/package.json') as { version?: string }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function packageVersion(pkg: string): string {
  try {
    return String((require(`${pkg}/package.json`) as { version?: string }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

type Sections = [name: string, lines: Line[]][];

/** RedisAI's INFO sections, in its order. */
function aiSections(server: Server): Sections {
  const rt = aiRuntime(server);
  const backends: Line[] = [];
  // versions as the packages declare them (read without loading the libraries on this thread)
  if (rt.loadedBackends.has('TF')) backends.push(['ai_TensorFlow_version', packageVersion('@tensorflow/tfjs-core')]);
  if (rt.loadedBackends.has('ONNX')) {
    let threads = 0;
    for (const q of rt.queues.values()) threads += q.threads;
    backends.push(['ai_onnxruntime_version', onnxruntimeVersion()]);
    // no allocator statistics (ai_onnxruntime_memory ...): onnxruntime-node does not expose its allocator
    backends.push(['ai_onnxruntime_maximum_run_sessions_number', threads]);
  }
  const u = process.resourceUsage();
  const sec = (us: number) => (us / 1e6).toFixed(6);
  const cpu: Line[] = [
    ['ai_self_used_cpu_sys', sec(u.systemCPUTime)],
    ['ai_self_used_cpu_user', sec(u.userCPUTime)],
    ['ai_children_used_cpu_sys', '0.000000'],
    ['ai_children_used_cpu_user', '0.000000'],
    // the process's figures: Node offers no per-thread CPU time
    ['ai_main_thread_used_cpu_sys', sec(u.systemCPUTime)],
    ['ai_main_thread_used_cpu_user', sec(u.userCPUTime)],
  ];
  for (const [device, q] of rt.queues) {
    const name = device.replace(/[:\s]/g, '_');
    cpu.push([`ai_queue_${name}_length`, q.length]);
    // busy (wall) time of each worker: a stand-in for the thread's CPU time
    q.busySeconds().forEach((s, i) => cpu.push([`ai_queue_${name}_bthread_n${i + 1}_used_cpu_total`, s.toFixed(6)]));
  }
  return [
    ['ai_versions', [['ai_RedisAI_version', '99.99.99'], ['ai_low_level_API_version', 1], ['ai_rdb_version', 4]]],
    ['ai_git', [['ai_git_sha', '0'.repeat(40)]]],
    [
      'ai_load_time_configs',
      [
        ['ai_threads_per_queue', rt.threadsPerQueue],
        ['ai_inter_op_parallelism', rt.interOpParallelism],
        ['ai_intra_op_parallelism', rt.intraOpParallelism],
        ['ai_model_execution_timeout', rt.modelExecutionTimeout],
        ['ai_backend_memory_limit', rt.backendMemoryLimit],
      ],
    ],
    ['ai_backends_info', backends],
    ['ai_cpu', cpu],
  ];
}

const SECTION_NAMES = ['ai_versions', 'ai_git', 'ai_load_time_configs', 'ai_backends_info', 'ai_cpu'];

/**
 * Lists the module in INFO's Modules section (replacing its empty builder in place) and registers RedisAI's
 * sections as the `ai` module's: shown by INFO MODULES, INFO ai, INFO EVERYTHING or their own names, not by
 * INFO / INFO ALL (as Redis does with module sections).
 */
export function registerAiInfo(info: InfoSections, server: Server): void {
  // INFO memory's ai_worker_threads (src/node/memory.ts): the worker threads of every device queue
  registerAiQueues((s) => [...aiRuntime(s).queues.values()].map((q) => q.threads));
  info.register('modules', 'Modules', () => [['module', 'name=ai,ver=999999,api=1,filters=0,usedby=[],using=[],options=[]']]);
  SECTION_NAMES.forEach((name, i) =>
    info.register(name, name, () => aiSections(server)[i][1], false, 'ai'),
  );
}

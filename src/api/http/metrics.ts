/**
 * Prometheus metrics of one server, in a registry of its own (not prom-client's global one), so
 * two servers in one process, as in the tests, never collide over metric names.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeChange } from '../../store/index.js';
import type { EnginePort } from './port.js';

export class HttpMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'api' | 'code'>;
  private readonly latency: Histogram<'api'>;
  private readonly changes: Counter<'operation'>;
  private readonly onNode: (change: NodeChange) => void;

  constructor(private readonly engine: EnginePort) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'pipestate_http_requests_total',
      help: 'HTTP requests answered, by api (route name, or "unknown") and envelope code (0 = success)',
      labelNames: ['api', 'code'] as const,
      registers,
    });
    this.latency = new Histogram({
      name: 'pipestate_http_request_duration_seconds',
      help: 'Time from receiving a request to its answer (SSE watches: until the stream opens), by api',
      labelNames: ['api'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.changes = new Counter({
      name: 'pipestate_node_changes_total',
      help: 'Node changes applied by accepted operations, by operation (a revoke counts the root and every node it revoked)',
      labelNames: ['operation'] as const,
      registers,
    });
    new Gauge({
      name: 'pipestate_tasks',
      help: 'Tasks tracked by the engine',
      registers,
      collect() {
        this.set(engine.snapshot().size);
      },
    });
    new Gauge({
      name: 'pipestate_nodes',
      help: 'Nodes tracked by the engine (every node of every task, root included)',
      registers,
      collect() {
        let nodes = 0;
        for (const task of engine.snapshot().tasksInOrder()) nodes += task.definition.size;
        this.set(nodes);
      },
    });
    this.onNode = (change) => this.changes.inc({ operation: change.operation });
    engine.on('node', this.onNode);
  }

  observe(api: string, code: number, seconds: number): void {
    this.requests.inc({ api, code: String(code) });
    this.latency.observe({ api }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.engine.off('node', this.onNode);
  }
}

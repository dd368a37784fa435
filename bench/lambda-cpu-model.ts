import { costPerMillionSends, type SendCost, type SendMeasurement } from './cost-model.js';

/**
 * What a send would take on Lambda, from what it took here. Lambda gives a
 * function CPU in proportion to its memory, a full vCPU at 1,769 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html);
 * the local runtime gives every instance a whole core. Each invocation's own
 * CPU time is measured here (its thread's), so on Lambda at `memoryMb` its
 * waiting (DynamoDB, posts) is taken as it was and its CPU work as stretched
 * by the share it gets: a 256 MB function does 10 ms of CPU work in 69 ms.
 * It assumes one core here does the work of one Lambda vCPU, which a
 * machine's and Graviton's speeds bend either way; more than one vCPU
 * (above 1,769 MB) does not speed up single-threaded JavaScript.
 */

/** Memory at which a Lambda function gets one full vCPU. */
export const FULL_VCPU_MB = 1_769;

/** The memory sizes the bench models (the cost model's table). */
export const MODELLED_MEMORY_MB = [256, 512, 1_024, 1_769] as const;

/** The share of one vCPU a function gets at `memoryMb`, at most the whole of it. */
export function cpuShare(memoryMb: number): number {
  if (!(memoryMb > 0)) throw new RangeError(`memory must be positive, got ${memoryMb}`);
  return Math.min(1, memoryMb / FULL_VCPU_MB);
}

/** Mean figures of one function's invocations, measured here. */
export interface LocalInvocations {
  /** Invocations per send. */
  readonly perSend: number;
  /** Mean wall time of one. */
  readonly wallMs: number;
  /** Mean CPU time of one (its own thread's). */
  readonly cpuMs: number;
}

/** An invocation's duration on Lambda at `memoryMb`: the waiting as measured, the CPU stretched. */
export function modelledDurationMs(invocation: LocalInvocations, memoryMb: number): number {
  const cpu = Math.min(invocation.cpuMs, invocation.wallMs);
  return invocation.wallMs - cpu + cpu / cpuShare(memoryMb);
}

/** One send as measured here: the route's function, the fan-out workers, and the rest of the bill. */
export interface MeasuredSend {
  readonly handler: LocalInvocations;
  /** Fan-out workers; none for rooms one function posts to alone. */
  readonly workers: LocalInvocations;
  /** Mean time until the last member had the message, here. */
  readonly lastMemberMs: number;
  /** The cost model's other terms (messages, units); its Lambda terms are replaced. */
  readonly bill: Omit<SendMeasurement, 'lambdaInvocations' | 'lambdaMs' | 'lambdaMemoryMb'>;
}

/** A send on Lambda with every function at one memory size. */
export interface ModelledSend {
  readonly memoryMb: number;
  /** The route's function's duration. */
  readonly handlerMs: number;
  /**
   * Time until the last member has it: the measured one, plus the CPU work
   * on its path stretched (the route's function's, and one worker's when
   * workers post: they run side by side).
   */
  readonly lastMemberMs: number;
  readonly gbSecondsPerSend: number;
  readonly cost: SendCost;
}

/** `send` modelled at `memoryMb` for every function it runs. */
export function modelSend(send: MeasuredSend, memoryMb: number): ModelledSend {
  const stretch = 1 / cpuShare(memoryMb) - 1;
  const handlerMs = modelledDurationMs(send.handler, memoryMb);
  const workerMs = send.workers.perSend > 0 ? modelledDurationMs(send.workers, memoryMb) : 0;
  const criticalCpuMs = send.handler.cpuMs + (send.workers.perSend > 0 ? send.workers.cpuMs : 0);
  const invocations = send.handler.perSend + send.workers.perSend;
  const billedMs = send.handler.perSend * handlerMs + send.workers.perSend * workerMs;
  return {
    memoryMb,
    handlerMs,
    lastMemberMs: send.lastMemberMs + criticalCpuMs * stretch,
    gbSecondsPerSend: (billedMs / 1000) * (memoryMb / 1024),
    cost: costPerMillionSends({
      ...send.bill,
      lambdaInvocations: invocations,
      lambdaMs: invocations > 0 ? billedMs / invocations : 0,
      lambdaMemoryMb: memoryMb,
    }),
  };
}

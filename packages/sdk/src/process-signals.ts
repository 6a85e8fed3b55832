import type { Logger } from "./logger.js";

/**
 * SIGINT/SIGTERM handling of a runtime: the first signal stops it gracefully, a second one while
 * it is stopping skips the rest of the grace period (what an impatient Ctrl-C or an orchestrator's
 * second SIGTERM means).
 */
export class ProcessSignals {
  readonly #handler: (signal: NodeJS.Signals) => void;
  #installed = false;

  /**
   * @param runtimeName - for the log lines.
   * @param logger - where the signals are logged.
   * @param isStopping - whether a stop is already under way.
   * @param stop - begin a graceful stop.
   * @param skipGrace - end the grace period now.
   */
  constructor(
    runtimeName: string,
    logger: Logger,
    isStopping: () => boolean,
    stop: () => void,
    skipGrace: () => void,
  ) {
    this.#handler = (signal) => {
      if (isStopping()) {
        logger.warn(`received ${signal} again; skipping the grace period`, {
          runtime: runtimeName,
        });
        skipGrace();
        return;
      }
      logger.info(`received ${signal}; stopping`, { runtime: runtimeName });
      stop();
    };
  }

  install(): void {
    if (!this.#installed) {
      this.#installed = true;
      process.on("SIGINT", this.#handler);
      process.on("SIGTERM", this.#handler);
    }
  }

  remove(): void {
    if (this.#installed) {
      this.#installed = false;
      process.off("SIGINT", this.#handler);
      process.off("SIGTERM", this.#handler);
    }
  }
}

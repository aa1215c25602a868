import Foundation
import Logging
import ScorerState
import ServiceLifecycle
import Storage

/// The engine as a `Service`: the once-a-second display refresh while the
/// timer runs; on graceful shutdown (or cancellation) the store is
/// checkpointed and closed. Put it *before* the servers feeding it in a
/// service group, so that they stop first and their in-flight events finish.
extension ScorerEngine: Service {
    public nonisolated func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.refreshLoop()
        }
        await close()
    }

    /// Refreshes the display strings on the legacy's schedule until cancelled.
    nonisolated func refreshLoop() async {
        var changes = timerChanges.makeAsyncIterator()
        while !Task.isCancelled {
            if let deadline = await nextDisplayRefresh() {
                let delay = deadline - clock.now()
                if delay > 0 {
                    do {
                        try await Task.sleep(for: .seconds(min(delay, 1.0)))
                    } catch {
                        return
                    }
                }
                await refreshDisplay(ifDueAt: deadline)
            } else {
                // The timer is stopped: wait until something may have started it.
                guard await changes.next(isolation: nil) != nil else { return }
            }
        }
    }

    /// When the next display refresh is due, or nil while the timer is stopped.
    public func nextDisplayRefresh() -> Double? {
        game.nextDisplayRefresh(after: clock.now())
    }

    /// The legacy's once-a-second display refresh at the clock's `now`:
    /// rewrites `elapsed_display` and `player_time_display` while the timer
    /// runs; no save, no broadcast (like the legacy).
    public func refreshDisplay() async {
        await exclusively {
            guard !closed else { return }
            if !game.refreshDisplay(now: clock.now()) {
                logger.warning("Engine display refresh failed on the stored state")
            }
        }
    }

    func refreshDisplay(ifDueAt deadline: Double) async {
        await exclusively {
            guard !closed, game.isTimerRunning, clock.now() >= deadline else { return }
            if !game.refreshDisplay(now: clock.now()) {
                logger.warning("Engine display refresh failed on the stored state")
            }
        }
    }

    /// Waits for the operation in flight, then checkpoints and closes the
    /// store; later events are answered `SERVER_ERROR` and change nothing.
    /// Calling it twice is harmless.
    public func close() async {
        await exclusively {
            guard !closed else { return }
            await settle()  // the events in flight are committed and answered first
            closed = true
            timerChangesContinuation.finish()
            do throws(StorageError) {
                try await store.checkpoint()
                try await store.close()
                logger.debug("Engine store closed", metadata: ["statetee.sequence": .stringConvertible(sequence)])
            } catch {
                logger.error("Engine store close failed", metadata: ["statetee.error": .string(error.description)])
            }
        }
    }
}

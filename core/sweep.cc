// See core/sweep.h.
#include "core/sweep.h"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <thread>

#include "core/engine.h"
#include "core/error.h"

namespace adsim {

std::vector<Results> RunSweep(const std::vector<SweepRun>& runs, const SweepOptions& options) {
  if (options.workers < 1) throw ConfigError("a sweep needs at least 1 worker, got " + std::to_string(options.workers));
  std::vector<Results> results(runs.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable changed;
  size_t done = 0;
  std::vector<char> finished(runs.size(), 0);  // by run, under the mutex
  size_t delivered = 0;                        // runs handed to options.consume
  size_t running_workers = 0;
  std::exception_ptr failure;
  size_t failed_run = 0;

  const auto fail = [&](size_t index, std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!failure) {
      failure = std::move(error);
      failed_run = index;
    }
    stop = true;
  };
  const auto work = [&]() {
    for (;;) {
      if (stop || (options.cancel && *options.cancel)) break;
      const size_t index = next.fetch_add(1);
      if (index >= runs.size()) break;
      try {
        RunOptions run_options;
        run_options.seed = runs[index].seed;
        run_options.cancel = &stop;
        results[index] = RunScenario(*runs[index].scenario, run_options);
      } catch (...) {
        fail(index, std::current_exception());
        break;
      }
      std::lock_guard<std::mutex> lock(mutex);
      ++done;
      finished[index] = 1;
      changed.notify_all();
    }
    std::lock_guard<std::mutex> lock(mutex);
    --running_workers;
    changed.notify_all();
  };

  const size_t thread_count = std::min<size_t>(static_cast<size_t>(options.workers), std::max<size_t>(runs.size(), 1));
  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  running_workers = thread_count;
  for (size_t i = 0; i < thread_count; ++i) threads.emplace_back(work);
  // The calling thread polls (progress, Python's signals) and consumes the
  // finished runs in order until the workers stop.
  {
    std::unique_lock<std::mutex> lock(mutex);
    size_t reported = static_cast<size_t>(-1);
    const auto deliver = [&]() {  // called and returns with the lock held
      while (options.consume && !failure && delivered < runs.size() && finished[delivered]) {
        const size_t index = delivered++;
        Results result = std::move(results[index]);
        results[index] = Results();
        lock.unlock();
        try {
          options.consume(index, std::move(result));
        } catch (...) {
          fail(runs.size(), std::current_exception());
        }
        lock.lock();
      }
    };
    while (running_workers > 0) {
      changed.wait_for(lock, std::chrono::milliseconds(100));
      deliver();
      if (options.cancel && *options.cancel && !failure) {
        failure = std::make_exception_ptr(Error("sweep cancelled"));
        failed_run = runs.size();  // not a run's failure
        stop = true;
      }
      if (options.poll && !failure) {
        const size_t now = done;
        lock.unlock();
        try {
          options.poll(now);
        } catch (...) {
          fail(runs.size(), std::current_exception());
        }
        lock.lock();
        reported = now;
      }
    }
    deliver();  // the runs that finished after the last look
    if (options.poll && !failure && reported != done) {
      lock.unlock();
      try {
        options.poll(done);
      } catch (...) {
        fail(runs.size(), std::current_exception());
      }
      lock.lock();
    }
  }
  for (auto& thread : threads) thread.join();
  // The workers may have seen the cancel flag and stopped before the loop
  // above ever looked at it: a sweep that did not finish every run never
  // returns as if it had.
  if (!failure && options.cancel && *options.cancel && done < runs.size()) {
    throw Error("sweep cancelled");
  }
  if (failure) {
    if (failed_run >= runs.size()) std::rethrow_exception(failure);  // from poll or the cancel flag
    const std::string which =
        "sweep run " + std::to_string(failed_run) + " (seed " + std::to_string(runs[failed_run].seed) + "): ";
    try {
      std::rethrow_exception(failure);
    } catch (const ConfigError&) {
      throw;
    } catch (const DataError& e) {
      throw DataError(which + e.what());
    } catch (const IoError& e) {
      throw IoError(which + e.what());
    } catch (const InvariantError& e) {
      throw InvariantError(which + e.what());
    } catch (const Error& e) {
      throw Error(which + e.what());
    }
  }
  return results;
}

}  // namespace adsim

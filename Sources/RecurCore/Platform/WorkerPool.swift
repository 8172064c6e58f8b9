// A fixed set of worker threads for opt-in parallelism (a state or trainer
// given more than one thread). Nothing here runs unless asked: a state or
// trainer at the default of one thread has no pool, and its calls take no
// lock and start no thread.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class WorkerPool: @unchecked Sendable {
    /// Threads including the caller's: `run` splits work `count` ways.
    let count: Int
    private var threads: [pthread_t] = []
    // pthread objects must not move: they live in memory of their own.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var job: ((Int) -> Void)? = nil
    private var generation = 0
    private var pending = 0
    private var stopping = false

    /// Starts `count - 1` threads (the caller is the count-th).
    init(count: Int) throws(RecurError) {
        self.count = count
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        for index in 1..<count {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
            let status = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.work(start.index)
                return nil
            }, context)
            guard status == 0 else {
                Unmanaged<WorkerStart>.fromOpaque(context).release()
                stop()
                throw RecurError(.outOfMemory, "could not start worker thread \(index) of \(count - 1): error \(status)")
            }
            threads.append(thread)
        }
    }

    /// Runs `body(i)` for i in 0 ..< count, i = 0 on the calling thread, the
    /// others on the workers; returns when all have finished.
    func run(_ body: @escaping (Int) -> Void) {
        pthread_mutex_lock(mutex)
        job = body
        pending = count - 1
        generation += 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        body(0)
        pthread_mutex_lock(mutex)
        while pending > 0 { pthread_cond_wait(done, mutex) }
        job = nil
        pthread_mutex_unlock(mutex)
    }

    private func work(_ index: Int) {
        var seen = 0
        while true {
            pthread_mutex_lock(mutex)
            while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
            if stopping { pthread_mutex_unlock(mutex); return }
            seen = generation
            let body = job
            pthread_mutex_unlock(mutex)
            body?(index)
            pthread_mutex_lock(mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(done) }
            pthread_mutex_unlock(mutex)
        }
    }

    private func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        threads = []
    }

    deinit {
        stop()
        pthread_cond_destroy(wake)
        pthread_cond_destroy(done)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        done.deallocate()
        mutex.deallocate()
    }

    /// Splits `0 ..< total` into `parts` contiguous ranges, the first ones
    /// one longer when it does not divide evenly.
    static func split(_ total: Int, _ parts: Int, _ index: Int) -> Range<Int> {
        let base = total / parts, extra = total % parts
        let start = index * base + min(index, extra)
        return start ..< start + base + (index < extra ? 1 : 0)
    }
}

private final class WorkerStart {
    let pool: WorkerPool
    let index: Int
    init(pool: WorkerPool, index: Int) { self.pool = pool; self.index = index }
}

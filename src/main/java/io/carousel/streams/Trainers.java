package io.carousel.streams;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded pool that trains models off the stream threads (retrain.threads daemon threads), or,
 * in synchronous mode (backtest, TopologyTestDriver), the caller's own thread, so results there
 * are deterministic. A result goes back through the callback the submitter gave; the submitter
 * applies it on its own stream thread.
 */
public final class Trainers implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Trainers.class);

    private final RetrainSettings settings;
    private final ExecutorService pool;
    private final java.util.Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicLong completed = new java.util.concurrent.atomic.AtomicLong();

    public Trainers(RetrainSettings settings) {
        this.settings = settings;
        if (settings.synchronous()) {
            pool = null;
        } else {
            AtomicInteger n = new AtomicInteger();
            pool = new ThreadPoolExecutor(settings.threads(), settings.threads(), 0, TimeUnit.MILLISECONDS,
                    new LinkedBlockingQueue<>(), r -> {
                        Thread t = new Thread(r, "carousel-trainer-" + n.incrementAndGet());
                        t.setDaemon(true);
                        t.setPriority(Thread.NORM_PRIORITY - 1); // the stream threads come first
                        return t;
                    });
        }
    }

    boolean synchronous() {
        return pool == null;
    }

    /** Trains {@code job}; {@code done} receives the result (on this thread when synchronous). */
    void submit(Retrainer.Job job, Consumer<Retrainer.Result> done) {
        if (pool == null) {
            done.accept(Retrainer.run(job, settings));
            return;
        }
        pool.execute(() -> {
            try {
                Retrainer.Result r = Retrainer.run(job, settings);
                threads.add(Thread.currentThread().getName());
                completed.incrementAndGet();
                done.accept(r);
            } catch (RuntimeException e) {
                LOG.warn("training model {} failed: {}", job.modelId(), e.toString());
                done.accept(new Retrainer.Result(job, null, Double.NaN, Double.NaN, Double.NaN, "training failed: " + e, 0));
            }
        });
    }

    /** Trainings finished on the pool so far. */
    public long completed() {
        return completed.get();
    }

    /** The names of the threads that ran trainings (the pool's own, never a stream thread). */
    public java.util.Set<String> threadNames() {
        return java.util.Set.copyOf(threads);
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}

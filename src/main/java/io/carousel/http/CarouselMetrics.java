package io.carousel.http;

import io.carousel.streams.Telemetry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics}: Carousel's own meters, fed by the topology through {@link Telemetry},
 * Kafka Streams' metrics (every client, thread, task and RocksDB metric it registers, through
 * Micrometer's {@link KafkaStreamsMetrics}), and the JVM's, in the Prometheus text format.
 *
 * <p>Per-model series ({@code carousel_forecast_mae}, {@code carousel_model_serving_version}) are
 * per key with per-key models, so their number grows with the keys: they stop at
 * {@link #MAX_MODEL_SERIES} models per instance (a warning says so once), beyond which the
 * totals still count everything. Use group models for fleets of that size.
 */
public final class CarouselMetrics implements Telemetry, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CarouselMetrics.class);
    public static final int MAX_MODEL_SERIES = 1000;
    /** Weight of one event in the running MAE once a model has seen 100 events (about its last 100). */
    static final double MAE_WEIGHT = 0.01;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter processed;
    private final Counter anomalies;
    private final Counter retrainsStarted;
    private final Counter accepted;
    private final Counter rejected;
    private final Timer acceptedTime;
    private final Timer rejectedTime;
    private final Map<String, Counter> deadLetters = new ConcurrentHashMap<>();
    private final Map<String, ModelStats> models = new ConcurrentHashMap<>();
    private final AtomicBoolean warned = new AtomicBoolean();
    private KafkaStreamsMetrics kafka;
    private java.util.concurrent.ScheduledExecutorService refresher;
    private JvmGcMetrics gc;

    /** One model's running numbers, and its meters. */
    private static final class ModelStats {
        long events;
        double mae = Double.NaN;
        volatile double version;
        List<Meter> meters;     // its two gauges

        synchronized void error(double e) {
            if (!Double.isFinite(e)) {
                return;
            }
            events++;
            double w = Math.max(MAE_WEIGHT, 1.0 / events);
            mae = events == 1 ? e : mae + w * (e - mae);
        }

        synchronized double mae() {
            return mae;
        }
    }

    public CarouselMetrics() {
        processed = Counter.builder("carousel.events.processed").description("Events through the forecast step").register(registry);
        anomalies = Counter.builder("carousel.anomalies").description("Events flagged as anomalies").register(registry);
        retrainsStarted = Counter.builder("carousel.retrains.started").description("Trainings handed to the trainers").register(registry);
        accepted = Counter.builder("carousel.retrains").tag("result", "accepted").description("Finished trainings").register(registry);
        rejected = Counter.builder("carousel.retrains").tag("result", "rejected").description("Finished trainings").register(registry);
        acceptedTime = Timer.builder("carousel.retrain.duration").tag("result", "accepted")
                .description("Time a training took").register(registry);
        rejectedTime = Timer.builder("carousel.retrain.duration").tag("result", "rejected")
                .description("Time a training took").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        gc = new JvmGcMetrics();
        gc.bindTo(registry);
    }

    /**
     * Binds Kafka Streams' metrics (re-read every 10 s, as threads and tasks come and go) and the
     * store gauges, once Kafka Streams exists.
     */
    public synchronized void bind(KafkaStreams streams, QueryService service) {
        refresher = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "carousel-metrics-refresh");
            t.setDaemon(true);
            return t;
        });
        kafka = new KafkaStreamsMetrics(streams, List.of(), refresher, Duration.ofSeconds(10));
        kafka.bindTo(registry);
        Gauge.builder("carousel.keys", service, s -> keys(s))
                .description("Keys held by this instance's active tasks").register(registry);
        for (String store : QueryService.STORES) {
            Gauge.builder("carousel.store.entries", service, s -> s.storeEntries(store)).tag("store", store)
                    .description("Entries of a state store over this instance's active tasks (RocksDB's estimate)").register(registry);
        }
    }

    private long keysAt;
    private double keys = Double.NaN;

    /** The key count, counted at most every 10 s: it walks the key-state store. */
    private synchronized double keys(QueryService s) {
        long now = System.nanoTime();
        if (Double.isNaN(keys) || now - keysAt > 10_000_000_000L) {
            keys = s.keyCount();
            keysAt = now;
        }
        return keys;
    }

    public String scrape() {
        return registry.scrape();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * Per-model meters are made here only, on the stream thread that reports the model, which is
     * told so (it forgets them when it stops serving the model).
     */
    @Override
    public boolean processed(String model, long version, double absError, boolean anomaly) {
        processed.increment();
        if (anomaly) {
            anomalies.increment();
        }
        ModelStats st = models.get(model);
        boolean made = false;
        if (st == null) {
            st = stats(model);
            made = st != null;
        }
        if (st != null) {
            st.error(absError);
            st.version = version;
        }
        return made;
    }

    @Override
    public void deadLettered(String reason) {
        deadLetters.computeIfAbsent(reason, r -> Counter.builder("carousel.dead.letters").tag("reason", r)
                .description("Records sent to the dead-letter topic").register(registry)).increment();
    }

    @Override
    public void retrainStarted(String model) {
        retrainsStarted.increment();
    }

    @Override
    public void retrainFinished(String model, boolean ok, long nanos) {
        (ok ? accepted : rejected).increment();
        (ok ? acceptedTime : rejectedTime).record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * A model with no meters yet gets them at its next event, from {@link #processed}, which also
     * says the version.
     */
    @Override
    public void serving(String model, long version) {
        ModelStats st = models.get(model);
        if (st != null) {
            st.version = version;
        }
    }

    @Override
    public void forget(String model) {
        ModelStats s = models.remove(model);
        if (s != null) {
            s.meters.forEach(registry::remove);
        }
    }

    /** The model's numbers, or null past {@link #MAX_MODEL_SERIES}: only models with meters are kept, so memory stays bounded. */
    private ModelStats stats(String model) {
        ModelStats s = models.get(model);
        if (s != null || models.size() >= MAX_MODEL_SERIES) {
            if (s == null && warned.compareAndSet(false, true)) {
                LOG.warn("more than {} models on this instance: per-model metrics stop there", MAX_MODEL_SERIES);
            }
            return s;
        }
        return models.computeIfAbsent(model, id -> {
            ModelStats n = new ModelStats();
            n.meters = List.of(
                    Gauge.builder("carousel.forecast.mae", n, ModelStats::mae).tag("model", id)
                            .description("Running mean absolute forecast error (about the last 100 events)").register(registry),
                    Gauge.builder("carousel.model.serving.version", n, x -> x.version).tag("model", id)
                            .description("Model version serving").register(registry));
            return n;
        });
    }

    @Override
    public synchronized void close() {
        if (kafka != null) {
            kafka.close();
            refresher.shutdownNow();
        }
        gc.close();
        registry.close();
    }
}

package io.carousel.it;

import io.carousel.config.CarouselConfig;
import io.carousel.e2e.KafkaIO;
import io.carousel.kafka.EmbeddedKafka;
import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import io.carousel.lstm.Safetensors;
import io.carousel.streams.CarouselApp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** What the integration tests share: the broker, the initial model, the settings of a run, the reference runs. */
final class ItSetup {
    /** The input every test uses: 40 keys x 300 events. */
    static final TestEvents EVENTS = new TestEvents(40, 300);

    /** Settings that change where and how a run happens, but not what it computes. */
    private static final Set<String> PLACE_KEYS = Set.of("bootstrap.servers", "application.id", "state.dir", "http.port",
            "client.id", "num.standby.replicas", "commit.interval.ms", "session.timeout.ms", "heartbeat.interval.ms",
            "producer.transaction.timeout.ms", "topic.partitions");

    private static final Map<List<String>, CompletableFuture<Outputs.Run>> REFERENCES = new ConcurrentHashMap<>();
    private static Path model;

    private ItSetup() {}

    /**
     * A single-node KRaft broker in this JVM on free ports. Timed-out transactions (of a killed
     * process) are aborted within a second of their timeout instead of within ten.
     */
    static EmbeddedKafka startBroker(Path dir) {
        // Transactions V2 (KIP-890): the broker logs each retriable OutOfOrderSequence rejection of a
        // new transaction's first batches (KAFKA-18202) at ERROR, though the producer just retries;
        // the outputs are what the tests check
        org.apache.logging.log4j.core.config.Configurator.setLevel("kafka.server.ReplicaManager",
                org.apache.logging.log4j.Level.FATAL);
        return EmbeddedKafka.start(dir, 0, 0, Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000"));
    }

    /**
     * The weights every run starts from (model.init): an LSTM with random weights from a fixed seed.
     * As model.init it has version 1, so keys forecast with the LSTM from their first event and the
     * forecasts depend on the restored h and c, not only on the last value.
     */
    static synchronized Path model() {
        if (model == null) {
            try {
                Path dir = Files.createDirectories(CarouselProcess.BASEDIR.resolve("target/it-data"));
                model = dir.resolve("lstm-h32-seed7.safetensors");
                Safetensors.write(model, LstmModel.init(new LstmShape(1, 32, 1, 1), 7), false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return model;
    }

    /**
     * The --set list of a run of application {@code app}: its own topics (4 partitions), state in
     * {@code stateDir}, the model from {@link #model}, retraining off, anomalies after 100 events,
     * and failure detection fast enough for a test (6 s sessions, 5 s transactions); then {@code extra}.
     */
    static List<String> settings(String bootstrap, String app, Path stateDir, String... extra) {
        List<String> s = new ArrayList<>(List.of(
                "bootstrap.servers=" + bootstrap,
                "application.id=" + app,
                "state.dir=" + stateDir,
                "http.port=0",
                "topic.events=" + app + ".events",
                "topic.enriched=" + app + ".enriched",
                "topic.forecasts=" + app + ".forecasts",
                "topic.anomalies=" + app + ".anomalies",
                "topic.dead-letter=" + app + ".dead-letter",
                "topic.models=" + app + ".models",
                "topic.partitions=4",
                "model.init=" + model(),
                "anomaly.warmup-events=100",
                "retrain.every-events=0",
                "retrain.drift=false",
                "commit.interval.ms=100",
                "session.timeout.ms=6000",
                "heartbeat.interval.ms=1500",
                "producer.transaction.timeout.ms=5000"));
        s.addAll(List.of(extra));
        return s;
    }

    /** The list with {@code key} set to {@code value} (replacing it). */
    static List<String> with(List<String> sets, String key, String value) {
        List<String> s = new ArrayList<>(sets.stream().filter(x -> !x.startsWith(key + "=")).toList());
        s.add(key + "=" + value);
        return s;
    }

    static CarouselConfig config(List<String> sets) {
        return CarouselConfig.load(CarouselProcess.CONFIG, sets);
    }

    /** Creates the run's topics (as {@code run} would, but before any producer writes to them). */
    static CarouselConfig createTopics(EmbeddedKafka broker, List<String> sets) {
        CarouselConfig c = config(sets);
        CarouselApp.ensureTopics(broker.admin(), c, (short) 1);
        return c;
    }

    /** Waits until the application's group has committed the whole events topic. */
    static void awaitConsumed(EmbeddedKafka broker, CarouselConfig c, Duration timeout) throws Exception {
        String app = applicationId(c);
        if (!KafkaIO.awaitConsumed(broker.admin(), app, c.topicEvents(), timeout)) {
            throw new AssertionError(app + " did not commit the end of " + c.topicEvents() + " within "
                    + timeout.toSeconds() + " s");
        }
    }

    static String applicationId(CarouselConfig c) {
        return c.streamsProperties().getProperty("application.id");
    }

    /**
     * The uninterrupted reference for runs with these settings over {@link #EVENTS}, computed once
     * per set of settings that matter (where a run happens does not), on a thread of its own: it
     * overlaps with the processes' start-up, and the test takes it when it checks.
     */
    static CompletableFuture<Outputs.Run> reference(List<String> sets, Path tmp) {
        List<String> what = sets.stream().filter(s -> !PLACE_KEYS.contains(s.substring(0, s.indexOf('='))))
                .filter(s -> !s.startsWith("topic.")).toList();
        return REFERENCES.computeIfAbsent(what, w -> CompletableFuture.supplyAsync(() -> {
            try {
                long t0 = System.nanoTime();
                Outputs.Run r = Outputs.reference(w, EVENTS, Files.createTempDirectory(tmp, "reference"));
                System.out.printf("reference run (TopologyTestDriver): %d enriched records in %.1f s%n", r.enriched().size(),
                        (System.nanoTime() - t0) / 1e9);
                return r;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, runnable -> {
            Thread t = new Thread(runnable, "it-reference-run");
            t.setDaemon(true);
            t.start();
        }));
    }

    /** The reference, waiting at most a minute for it. */
    static Outputs.Run await(CompletableFuture<Outputs.Run> reference) throws Exception {
        return reference.get(60, TimeUnit.SECONDS);
    }

    static Path logDir(Class<?> test, String name) {
        return CarouselProcess.BASEDIR.resolve("target/it-logs").resolve(test.getSimpleName()).resolve(name);
    }
}

package io.carousel.bench;

import io.carousel.config.CarouselConfig;
import io.carousel.kafka.EmbeddedKafka;
import io.carousel.streams.CarouselApp;
import io.carousel.streams.CarouselTopology;
import io.carousel.streams.History;
import io.carousel.streams.KeyForecaster;
import io.carousel.streams.ModelSource;
import io.carousel.streams.StreamSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * End-to-end throughput and latency against a real KRaft broker (in this JVM), Carousel against a
 * passthrough topology measured alternately in the same run. The passthrough has what Carousel has
 * but the maths: the same byte-array serdes, exactly_once_v2 and commit interval (and Carousel's
 * other Kafka Streams settings), per event one read and one write of a key-state record and one
 * history record of the sizes Carousel's are, and two output records (enriched and forecast), so
 * the ratio is the cost of parsing, the LSTM, scoring and formatting. Carousel's keys take the
 * path of trained keys (the LSTM serves, the gate weighs it against persistence); retraining is
 * off (its cost is RetrainLatencyBench's to measure).
 *
 * <ul>
 *   <li>throughput: N events preloaded on the events topic, time from RUNNING to the last of N
 *       enriched records seen by a read_committed consumer;</li>
 *   <li>latency: events produced at a steady rate, the time from send to the enriched record
 *       being readable with read_committed (so it includes the commit interval);</li>
 *   <li>{@code --keys 1000,100000,1000000}: Carousel alone over each key count, with the state
 *       directory's size on disk, bytes per key and heap after a GC;</li>
 *   <li>{@code --instances 2}: the same N events on 8 partitions through one instance, then two.</li>
 * </ul>
 *
 * <pre>
 * mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -Xmx6g -cp target/test-classes:target/classes:$(cat target/cp.txt) io.carousel.bench.ThroughputBench \
 *     [--events 200000] [--rounds 3] [--rate 2000] [--keys 1000,100000,1000000] [--instances 2]
 * </pre>
 */
public final class ThroughputBench {

    private static final long T0 = 1_700_000_000_000L;

    private final EmbeddedKafka kafka;
    private final Path dir;
    private int run;

    private ThroughputBench(EmbeddedKafka kafka, Path dir) {
        this.kafka = kafka;
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        int events = 200_000;
        int rounds = 3;
        int rate = 2000;
        int[] keyCounts = null;
        int instances = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--events" -> events = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--rate" -> rate = Integer.parseInt(args[++i]);
                case "--keys" -> keyCounts = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--instances" -> instances = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory("carousel-throughput");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0, 0)) {
            ThroughputBench b = new ThroughputBench(kafka, dir);
            if (keyCounts != null) {
                b.cardinality(keyCounts, events);
            } else if (instances > 0) {
                b.scaleOut(instances, events);
            } else {
                b.versusPassthrough(events, rounds, rate);
            }
        } finally {
            // the broker has stopped by now; its logs alone reach gigabytes over a run
            Benches.deleteTree(dir);
        }
    }

    // ------------------------------------------------------------------ the three experiments

    private void versusPassthrough(int events, int rounds, int rate) throws Exception {
        double[] carousel = new double[rounds];
        double[] pass = new double[rounds];
        double[] carouselCpu = new double[rounds];
        double[] passCpu = new double[rounds];
        double[][] carouselSplit = new double[rounds][];
        double[][] passSplit = new double[rounds][];
        // round -1 warms the JIT, the broker and the page cache; a shorter one left Carousel's first
        // measured round at about half the speed of the others
        for (int r = -1; r < rounds; r++) {
            int n = events;
            Result a = throughput(true, 1000, n, 4, 1);
            Result b = throughput(false, 1000, n, 4, 1);
            if (r >= 0) {
                carousel[r] = a.eventsPerSecond;
                pass[r] = b.eventsPerSecond;
                carouselCpu[r] = a.eventsPerCpuSecond;
                passCpu[r] = b.eventsPerCpuSecond;
                carouselSplit[r] = a.cpuSplit;
                passSplit[r] = b.cpuSplit;
            }
        }
        double[] latC = latency(true, rate, 30);
        double[] latP = latency(false, rate, 30);
        System.out.printf(Locale.ROOT, "end to end on a real broker, 1,000 keys, 4 partitions, exactly_once_v2, H = 32, %,d events,"
                + " median of %d rounds%n", events, rounds);
        System.out.printf(Locale.ROOT, "%-14s %14s %10s %10s%n", "", "events/s", "p50 ms", "p99 ms");
        System.out.printf(Locale.ROOT, "%-14s %14.0f %10.1f %10.1f   %s%n", "carousel", Benches.median(carousel), latC[0], latC[1],
                Arrays.toString(Arrays.stream(carousel).mapToLong(Math::round).toArray()));
        System.out.printf(Locale.ROOT, "%-14s %14.0f %10.1f %10.1f   %s%n", "passthrough", Benches.median(pass), latP[0], latP[1],
                Arrays.toString(Arrays.stream(pass).mapToLong(Math::round).toArray()));
        double[] pairs = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            pairs[r] = carousel[r] / pass[r]; // a round's two runs are back to back: the machine's load drifts less
        }
        System.out.printf(Locale.ROOT, "ratio carousel/passthrough: %.3f (throughput, of the medians); %.3f (median of the"
                        + " rounds' ratios %s); latency at %d events/s%n", Benches.median(carousel) / Benches.median(pass),
                Benches.median(pairs), Arrays.toString(Arrays.stream(pairs).map(x -> Math.round(x * 1000) / 1000.0).toArray()), rate);
        // the machine is shared: CPU time is steadier than the wall clock when other work competes
        System.out.printf(Locale.ROOT, "events per CPU-second of the process (broker, Kafka Streams, consumer): carousel %.0f %s,"
                        + " passthrough %.0f %s, ratio %.3f%n", Benches.median(carouselCpu),
                Arrays.toString(Arrays.stream(carouselCpu).mapToLong(Math::round).toArray()), Benches.median(passCpu),
                Arrays.toString(Arrays.stream(passCpu).mapToLong(Math::round).toArray()), Benches.median(carouselCpu) / Benches.median(passCpu));
        // where each event's CPU goes: the stream thread does the work the two topologies do
        // differently, and with one stream thread its time per event bounds the throughput; the
        // sender, the broker and the reader pay for the bytes the outputs add; the rest is GC and the JIT
        for (int c = 0; c < CPU_GROUPS.length; c++) {
            double[] mine = column(carouselSplit, c);
            double[] base = column(passSplit, c);
            System.out.printf(Locale.ROOT, "CPU per event, %-23s carousel %5.1f us %s, passthrough %5.1f us %s, ratio passthrough/carousel %.3f%n",
                    CPU_GROUPS[c] + ":", Benches.median(mine), Arrays.toString(round1(mine)), Benches.median(base),
                    Arrays.toString(round1(base)), Benches.median(base) / Benches.median(mine));
        }
    }

    private void cardinality(int[] keyCounts, int events) throws Exception {
        throughput(true, 1000, events / 4, 4, 1); // warm-up
        System.out.printf(Locale.ROOT, "%-10s %10s %12s %14s %12s %12s%n", "keys", "events", "events/s", "state on disk", "bytes/key",
                "heap MiB");
        for (int keys : keyCounts) {
            int n = Math.max(events, 2 * keys);
            Result r = throughput(true, keys, n, 4, 1);
            System.out.printf(Locale.ROOT, "%-10d %10d %12.0f %14s %12.0f %12.0f%n", keys, n, r.eventsPerSecond,
                    String.format(Locale.ROOT, "%.1f MiB", r.stateBytes / 1048576.0), (double) r.stateBytes / keys, r.heapMiB);
        }
    }

    private void scaleOut(int instances, int events) throws Exception {
        throughput(true, 1000, events / 4, 8, 1); // warm-up
        Result one = throughput(true, 1000, events, 8, 1);
        Result many = throughput(true, 1000, events, 8, instances);
        System.out.printf(Locale.ROOT, "8 partitions, 1,000 keys, %,d events: 1 instance %.0f events/s, %d instances %.0f events/s,"
                + " ratio %.2f (all in one JVM on %d cores)%n", events, one.eventsPerSecond, instances, many.eventsPerSecond,
                many.eventsPerSecond / one.eventsPerSecond, Runtime.getRuntime().availableProcessors());
    }

    // ------------------------------------------------------------------ one measured run

    /**
     * Throughput by the wall clock, and per CPU-second of this whole process (broker and consumer
     * included); the CPU per event by {@link #CPU_GROUPS}.
     */
    record Result(double eventsPerSecond, double eventsPerCpuSecond, double[] cpuSplit, long stateBytes, double heapMiB) {}

    /** The process's threads by what they do (see {@link #cpuByGroup}). */
    private static final String[] CPU_GROUPS = {"stream thread", "its producer's sender", "broker threads", "reader",
            "GC, JIT and VM"};

    private static double[] column(double[][] rows, int c) {
        return Arrays.stream(rows).mapToDouble(r -> r[c]).toArray();
    }

    /** CPU time of every live Java thread so far, in ns, by thread id. */
    private static Map<Long, Long> threadNanos() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        Map<Long, Long> m = new HashMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            m.put(t.getId(), Math.max(0, mx.getThreadCpuTime(t.getId())));
        }
        return m;
    }

    /**
     * The CPU the process spent since {@code before} (and {@code processBefore}), in ns by
     * {@link #CPU_GROUPS}: Kafka Streams' stream threads (one an instance: each runs its tasks' every
     * record, so its time per event bounds the throughput), their producers' sender threads (which
     * run beside them), the broker's (every other Java thread but this one), this thread (the bench's
     * read_committed reader), and what no Java thread accounts for (GC, JIT compiler and VM threads).
     */
    private static double[] cpuByGroup(Map<Long, Long> before, long processBefore) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        double[] g = new double[CPU_GROUPS.length];
        long me = Thread.currentThread().getId();
        double threads = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            long now = mx.getThreadCpuTime(t.getId());
            if (now < 0) {
                continue;
            }
            double spent = now - before.getOrDefault(t.getId(), 0L);
            String name = t.getName();
            int group = t.getId() == me ? 3 : !name.contains("StreamThread") ? 2 : name.contains("producer") ? 1 : 0;
            g[group] += spent;
            threads += spent;
        }
        g[4] = Math.max(0, cpuNanos() - processBefore - threads);
        return g;
    }

    private static double[] round1(double[] a) {
        return Arrays.stream(a).map(v -> Math.round(v * 10) / 10.0).toArray();
    }

    /** CPU time of this process so far, in ns. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private Result throughput(boolean carousel, int keys, int events, int partitions, int instances) throws Exception {
        String name = "r" + (++run) + (carousel ? "-carousel" : "-pass");
        CarouselConfig config = config(name, partitions);
        createTopics(config, partitions);
        produce(config.topicEvents(), keys, events, 0);
        List<KafkaStreams> apps = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(config.topicEnriched())) {
            for (int i = 0; i < instances; i++) {
                Properties p = CarouselApp.streamsProperties(config, kafka.bootstrapServers());
                p.put("state.dir", dir.resolve(name + "-state-" + i).toString());
                apps.add(new KafkaStreams(topology(carousel, config), p));
            }
            apps.forEach(KafkaStreams::start);
            awaitRunning(apps);
            long t0 = System.nanoTime();
            long cpu0 = cpuNanos();
            Map<Long, Long> threads0 = threadNanos();
            long seen = 0;
            long deadline = t0 + Duration.ofMinutes(30).toNanos();
            while (seen < events) {
                seen += consumer.poll(Duration.ofMillis(100)).count();
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(name + ": only " + seen + " of " + events + " enriched records");
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double cpuSeconds = (cpuNanos() - cpu0) / 1e9;
            double[] split = Arrays.stream(cpuByGroup(threads0, cpu0)).map(ns -> ns / 1e3 / events).toArray();
            System.gc();
            double heap = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1048576.0;
            long disk = 0;
            for (int i = 0; i < instances; i++) {
                disk += size(dir.resolve(name + "-state-" + i));
            }
            return new Result(events / seconds, events / cpuSeconds, split, disk, heap);
        } finally {
            apps.forEach(a -> a.close(Duration.ofSeconds(30)));
        }
    }

    /** Latency at a steady rate: {p50, p99} in ms, after the first 5 s. */
    private double[] latency(boolean carousel, int rate, int seconds) throws Exception {
        String name = "r" + (++run) + (carousel ? "-carousel-latency" : "-pass-latency");
        CarouselConfig config = config(name, 4);
        createTopics(config, 4);
        List<Double> ms = new ArrayList<>();
        Properties p = CarouselApp.streamsProperties(config, kafka.bootstrapServers());
        p.put("state.dir", dir.resolve(name + "-state").toString());
        try (KafkaStreams app = new KafkaStreams(topology(carousel, config), p);
             KafkaConsumer<byte[], byte[]> consumer = consumer(config.topicEnriched());
             KafkaProducer<byte[], byte[]> producer = producer()) {
            app.start();
            awaitRunning(List.of(app));
            long start = System.nanoTime();
            long warm = System.currentTimeMillis() + 5000;
            long sent = 0;
            Random rnd = new Random(5);
            while (System.nanoTime() - start < seconds * 1_000_000_000L) {
                long due = start + sent * 1_000_000_000L / rate;
                while (System.nanoTime() < due) {
                    collect(consumer, ms, warm, Duration.ZERO);
                }
                producer.send(record(config.topicEvents(), (int) (sent % 1000), sent / 1000, rnd, System.currentTimeMillis()));
                sent++;
            }
            producer.flush();
            long stop = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < stop) {
                collect(consumer, ms, warm, Duration.ofMillis(100));
            }
        }
        ms.sort(null);
        return new double[] {ms.get(ms.size() / 2), ms.get((int) (ms.size() * 0.99))};
    }

    private static void collect(KafkaConsumer<byte[], byte[]> c, List<Double> out, long warm, Duration wait) {
        long now = System.currentTimeMillis();
        for (ConsumerRecord<byte[], byte[]> r : c.poll(wait)) {
            if (r.timestamp() >= warm) {
                out.add((double) (now - r.timestamp())); // the enriched record keeps the event's record time: its send time
            }
        }
    }

    // ------------------------------------------------------------------ plumbing

    private CarouselConfig config(String name, int partitions) {
        Map<String, String> cfg = new HashMap<>(Map.of("retrain.every-events", "0", "retrain.drift", "false",
                "application.id", "bench-" + name, "commit.interval.ms", "100", "topic.partitions", Integer.toString(partitions)));
        for (String t : List.of("events", "enriched", "forecasts", "anomalies", "dead-letter", "models", "control")) {
            cfg.put("topic." + t, name + "-" + t);
        }
        return CarouselConfig.of(cfg);
    }

    private void createTopics(CarouselConfig config, int partitions) {
        Map<String, Integer> topics = new HashMap<>(CarouselApp.topics(config));
        topics.put(config.topicModels(), partitions);
        topics.put(config.topicControl(), partitions);
        kafka.createTopics(topics, Map.of());
    }

    private Topology topology(boolean carousel, CarouselConfig config) {
        StreamSettings s = StreamSettings.from(config);
        // keys are served as trained keys are (the LSTM's forecast, the gate weighing it against
        // persistence), not as a new deployment's, whose untrained model leaves them to persistence:
        // a model at version 1 takes that path whatever its weights, so fresh ones cost the same
        ModelSource fresh = ModelSource.from(s);
        return carousel ? CarouselTopology.build(s, new ModelSource(fresh.model(), 1)) : passthrough(s);
    }

    /** Reads and writes what Carousel does per event, computes nothing. */
    static Topology passthrough(StreamSettings s) {
        // records of the sizes Carousel writes: a new key's state, one event in the history
        int stateBytes = new KeyForecaster(s, ModelSource.from(s).model(), 0).newState().serialisedSize();
        StreamsBuilder b = new StreamsBuilder();
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CarouselTopology.KEY_STATE_STORE),
                Serdes.String(), Serdes.ByteArray()));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CarouselTopology.HISTORY_STORE),
                Serdes.Bytes(), Serdes.ByteArray()));
        KStream<byte[], byte[]> out = b.stream(s.eventsTopic(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .process(() -> new PassThrough(stateBytes, History.valueBytes(s.featureCount())), Named.as("pass"), CarouselTopology.KEY_STATE_STORE, CarouselTopology.HISTORY_STORE);
        Produced<byte[], byte[]> bytes = Produced.with(Serdes.ByteArray(), Serdes.ByteArray());
        out.to(s.enrichedTopic(), bytes);
        out.to(s.forecastsTopic(), bytes);
        return b.build();
    }

    private static final class PassThrough implements Processor<byte[], byte[], byte[], byte[]> {
        private ProcessorContext<byte[], byte[]> context;
        private KeyValueStore<String, byte[]> state;
        private KeyValueStore<Bytes, byte[]> history;
        private final int stateBytes;
        private final int historyBytes;
        private long seq;

        PassThrough(int stateBytes, int historyBytes) {
            this.stateBytes = stateBytes;
            this.historyBytes = historyBytes;
        }

        @Override
        public void init(ProcessorContext<byte[], byte[]> context) {
            this.context = context;
            this.state = context.getStateStore(CarouselTopology.KEY_STATE_STORE);
            this.history = context.getStateStore(CarouselTopology.HISTORY_STORE);
        }

        @Override
        public void process(Record<byte[], byte[]> r) {
            String key = new String(r.key(), StandardCharsets.UTF_8);
            byte[] old = state.get(key);
            byte[] now = old == null ? new byte[stateBytes] : old.clone();
            now[0]++;
            state.put(key, now);
            byte[] hk = new byte[12 + r.key().length];
            System.arraycopy(r.key(), 0, hk, 4, r.key().length);
            hk[hk.length - 1] = (byte) seq++;
            history.put(Bytes.wrap(hk), new byte[historyBytes]);
            context.forward(r);
        }
    }

    private void produce(String topic, int keys, int events, long seed) {
        Random rnd = new Random(seed);
        // record times of now: the event times (in 2023) as record times would fall under the topics'
        // 7-day retention, and the broker deletes such segments at its next check, mid-run
        long now = System.currentTimeMillis();
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            for (int i = 0; i < events; i++) {
                p.send(record(topic, i % keys, i / keys, rnd, now));
            }
            p.flush();
        }
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, int key, long round, Random rnd, long recordTime) {
        double v = 20 + 5 * Math.sin(round / 7.0 + key) + rnd.nextGaussian();
        byte[] value = String.format(Locale.ROOT, "{\"timestamp\":%d,\"value\":%.4f}", T0 + round * 60_000L, v)
                .getBytes(StandardCharsets.UTF_8);
        return new ProducerRecord<>(topic, null, recordTime, ("sensor-" + key).getBytes(StandardCharsets.UTF_8), value);
    }

    private KafkaProducer<byte[], byte[]> producer() {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("linger.ms", "5");
        p.put("batch.size", "65536");
        // a plain producer: on this loaded machine the idempotent one was seen stuck retrying an
        // out-of-order sequence for minutes while preloading; the bench only needs the data there
        p.put("enable.idempotence", "false");
        p.put("acks", "1");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private KafkaConsumer<byte[], byte[]> consumer(String topic) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("isolation.level", "read_committed");
        p.put("auto.offset.reset", "earliest");
        p.put("max.poll.records", "5000");
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        // assigned, not subscribed: no group rebalance of the reader's own inside the measured time
        List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        c.assign(parts);
        c.seekToBeginning(parts);
        return c;
    }

    private static void awaitRunning(List<KafkaStreams> apps) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (apps.stream().anyMatch(a -> a.state() != KafkaStreams.State.RUNNING)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Kafka Streams did not reach RUNNING");
            }
            Thread.sleep(50);
        }
    }

    private static long size(Path p) throws Exception {
        if (!Files.exists(p)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(p)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

}

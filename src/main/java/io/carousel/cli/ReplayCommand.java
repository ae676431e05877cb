package io.carousel.cli;

import io.carousel.config.CarouselConfig;
import io.carousel.streams.CarouselApp;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code replay}: a CSV's rows into the events topic as JSON events, for feeding a running
 * processor. The whole file is checked before the first event is sent, so a bad row never leaves
 * half a file in the topic.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Produce a CSV's rows as JSON events to the events topic, for a running `carousel run`.",
            "CSV: a header row, then either timestamp,value (NAB; the key is the file's name without extension,"
                + " or --key) or timestamp,key,value[,more columns]. Each row becomes"
                + " {\"timestamp\": \"<as in the file>\", \"value\": <number>, <other columns by their header name>}"
                + " keyed by the series key; a label column (ground truth) is carried as a field.",
            "With bootstrap.servers empty it sends to the embedded broker of a running `carousel run`"
                + " (127.0.0.1:<embedded.port>); it never starts one."})
final class ReplayCommand implements Callable<Integer> {

    static final Duration CHECK_TIMEOUT = Duration.ofSeconds(15);

    @Option(names = "--input", required = true, paramLabel = "FILE.csv", description = "The CSV to replay.")
    Path input;

    @Option(names = "--topic", paramLabel = "TOPIC", description = "Topic to send to (default: topic.events of the configuration).")
    String topic;

    @Option(names = "--rate", paramLabel = "N[/s]", defaultValue = "0", converter = RateConverter.class,
            description = "At most N rows per second; 0 (the default) = as fast as possible.")
    double rate;

    @Option(names = "--key", paramLabel = "KEY",
            description = "Series key of a timestamp,value CSV (default: the file's name without extension).")
    String key;

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CarouselConfig cfg = config.load();
        String target = topic != null ? topic : cfg.topicEvents();
        if (target.isBlank()) {
            throw new IllegalArgumentException("--topic must not be empty");
        }
        EventCsv csv = EventCsv.open(input, key, cfg);
        long rows = csv.check();

        String bootstrap;
        if (cfg.embedded()) {
            int port = cfg.embeddedPort();
            if (port == 0) {
                throw new IllegalArgumentException("bootstrap.servers is empty and embedded.port is 0 (any free port):"
                        + " set bootstrap.servers to the broker to replay to");
            }
            bootstrap = "127.0.0.1:" + port;
            if (!listening("127.0.0.1", port)) {
                return fail(err, "no Kafka broker on " + bootstrap + " (bootstrap.servers is empty, so replay sends to"
                        + " the embedded broker of a running `carousel run`): start `carousel run` first, or set"
                        + " bootstrap.servers");
            }
        } else {
            bootstrap = cfg.bootstrapServers();
        }
        Properties streamsProps = cfg.streamsProperties(bootstrap);
        String problem = checkTopic(streamsProps, bootstrap, target);
        if (problem != null) {
            return fail(err, problem);
        }

        AtomicReference<Exception> failure = new AtomicReference<>();
        AtomicLong acked = new AtomicLong();
        long sent = 0;
        KafkaProducer<byte[], byte[]> producer;
        try {
            producer = new KafkaProducer<>(producerConfigs(streamsProps), new ByteArraySerializer(), new ByteArraySerializer());
        } catch (KafkaException e) {
            return fail(err, "cannot create a producer for " + bootstrap + ": " + RunCommand.describe(e));
        }
        Progress progress = Progress.where(Progress.Terminal.system(), false) == Progress.Where.OUT
                ? new Progress(out, rows, System::nanoTime) : Progress.off();
        try (Progress bar = progress) {
            long start = System.nanoTime();
            EventCsv.Reader reader = csv.reader();
            for (EventCsv.Row row; (row = reader.next()) != null && failure.get() == null; ) {
                bar.update(sent);
                if (rate > 0) {
                    pace(start + (long) (sent * 1e9 / rate));
                }
                producer.send(new ProducerRecord<>(target, row.key(), row.value()), (md, ex) -> {
                    if (ex != null) {
                        failure.compareAndSet(null, ex);
                    } else {
                        acked.incrementAndGet();
                    }
                });
                sent++;
            }
            producer.flush();
        } catch (KafkaException e) {
            failure.compareAndSet(null, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure.compareAndSet(null, e);
        } finally {
            producer.close(Duration.ofSeconds(30));
        }
        if (failure.get() != null) {
            return fail(err, "replay to " + target + " on " + bootstrap + " failed after " + acked.get() + " of " + rows
                    + " events: " + RunCommand.describe(failure.get()));
        }
        out.println("replayed " + acked.get() + " events from " + input + " to " + target);
        out.flush();
        return 0;
    }

    private static void pace(long dueNanos) throws InterruptedException {
        for (long wait; (wait = dueNanos - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(wait);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    private static boolean listening(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Null if the topic exists (or cannot be checked for lack of rights), else the problem on one line. */
    private static String checkTopic(Properties streamsProps, String bootstrap, String topic) {
        Map<String, Object> adminProps = CarouselApp.adminConfigs(streamsProps);
        try (Admin admin = Admin.create(adminProps)) {
            admin.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs((int) CHECK_TIMEOUT.toMillis()))
                    .allTopicNames().get(CHECK_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof UnknownTopicOrPartitionException) {
                return "topic " + topic + " does not exist on " + bootstrap + " (`carousel run` creates it)";
            }
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                return "no Kafka broker answered at " + bootstrap + " within " + CHECK_TIMEOUT.toSeconds() + " s";
            }
            return null; // e.g. no Describe right: let the producer find out
        } catch (TimeoutException e) {
            return "no Kafka broker answered at " + bootstrap + " within " + CHECK_TIMEOUT.toSeconds() + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (KafkaException e) {
            return "cannot connect to " + bootstrap + ": " + RunCommand.describe(e);
        }
    }

    /**
     * The producer settings within the configuration (security and the like, with the
     * {@code producer.} prefix applied), then replay's own: idempotent, acks=all.
     */
    static Map<String, Object> producerConfigs(Properties streamsProps) {
        Map<String, Object> p = CarouselApp.clientConfigs(streamsProps, ProducerConfig.configNames(),
                StreamsConfig.PRODUCER_PREFIX);
        p.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        p.remove(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG);
        p.remove(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, streamsProps.getProperty(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "carousel-replay");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return p;
    }

    private static int fail(PrintWriter err, String message) {
        err.println("carousel: " + message);
        err.flush();
        return 1;
    }

    /** {@code N} or {@code N/s}, N >= 0. */
    static final class RateConverter implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            String v = value.strip();
            if (v.endsWith("/s")) {
                v = v.substring(0, v.length() - 2).strip();
            }
            double d;
            try {
                d = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a rate: expected N or N/s (rows per second)");
            }
            if (!Double.isFinite(d) || d < 0) {
                throw new TypeConversionException("'" + value + "' is not a rate: expected a number >= 0 of rows per second");
            }
            return d;
        }
    }
}

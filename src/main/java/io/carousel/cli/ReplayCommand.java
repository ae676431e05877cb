package io.carousel.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.carousel.config.CarouselConfig;
import io.carousel.streams.CarouselApp;
import io.carousel.streams.EventParser;
import io.carousel.streams.Rejection;
import io.carousel.streams.StreamSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
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
        try {
            long start = System.nanoTime();
            EventCsv.Reader reader = csv.reader();
            for (EventCsv.Row row; (row = reader.next()) != null && failure.get() == null; ) {
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

    /**
     * A CSV of events: its header decides the columns' roles; rows become (key, JSON) pairs.
     * Every problem is an IllegalArgumentException naming the file and line.
     */
    static final class EventCsv {
        static final String TIMESTAMP = "timestamp";
        static final String KEY = "key";
        static final String LABEL = "label";
        private static final Pattern NUMBER = Pattern.compile("[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?");
        private static final Pattern INTEGER = Pattern.compile("-?\\d{1,18}");
        private static final JsonFactory JSON = new JsonFactory();

        private final Path file;
        private final String[] header;
        private final int timestampCol;
        private final int keyCol;
        /** The series key of every row when there is no key column. */
        private final String fixedKey;
        /** The top-level field to carry the key in (events.key.field), or null. */
        private final String keyField;
        /** Columns that must be numbers in every row: the features of events.features. */
        private final boolean[] feature;
        private final StreamSettings.TimeFormat timeFormat;

        private EventCsv(Path file, String[] header, int timestampCol, int keyCol, String fixedKey, String keyField,
                         boolean[] feature, StreamSettings.TimeFormat timeFormat) {
            this.file = file;
            this.header = header;
            this.timestampCol = timestampCol;
            this.keyCol = keyCol;
            this.fixedKey = fixedKey;
            this.keyField = keyField;
            this.feature = feature;
            this.timeFormat = timeFormat;
        }

        static EventCsv open(Path file, String keyOption, CarouselConfig cfg) {
            String headLine;
            try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                headLine = r.readLine();
            } catch (IOException e) {
                throw readError(file, e);
            }
            if (headLine == null || headLine.isBlank()) {
                throw new IllegalArgumentException(file + ": empty file, expected a header row (timestamp,value or"
                        + " timestamp,key,value,...)");
            }
            if (headLine.startsWith("\uFEFF")) {
                headLine = headLine.substring(1);
            }
            String[] header = split(headLine).toArray(String[]::new);
            Set<String> seen = new HashSet<>();
            for (int c = 0; c < header.length; c++) {
                header[c] = header[c].strip();
                if (header[c].isEmpty()) {
                    throw new IllegalArgumentException(file + " line 1: column " + (c + 1) + " has no name");
                }
                if (!seen.add(header[c])) {
                    throw new IllegalArgumentException(file + " line 1: column " + header[c] + " appears twice");
                }
            }
            List<String> names = List.of(header);
            int ts = names.indexOf(TIMESTAMP);
            if (ts < 0) {
                throw new IllegalArgumentException(file + " line 1: no timestamp column; expected a header"
                        + " timestamp,value or timestamp,key,value,... (got " + headLine.strip() + ")");
            }
            String keyField = cfg.eventsKeyField().map(f -> topLevelField(f, "events.key.field")).orElse(null);
            int keyCol = keyField != null && names.contains(keyField) ? names.indexOf(keyField) : names.indexOf(KEY);
            String fixedKey = null;
            if (keyCol >= 0 && keyOption != null) {
                throw new IllegalArgumentException("--key is for a CSV without a key column; " + file
                        + " has one (" + header[keyCol] + ")");
            }
            if (keyCol < 0) {
                fixedKey = keyOption != null ? keyOption : baseName(file);
                if (fixedKey.isEmpty()) {
                    throw new IllegalArgumentException("--key must not be empty");
                }
            }
            boolean[] feature = new boolean[header.length];
            for (String pointer : cfg.eventsFeatures()) {
                String name = pointer.substring(1);
                if (name.contains("/")) {
                    continue; // a nested feature: only the processor can tell
                }
                name = name.replace("~1", "/").replace("~0", "~");
                int c = names.indexOf(name);
                if (c < 0 || c == keyCol || c == ts) {
                    throw new IllegalArgumentException(file + " line 1: no column " + name + " for the feature "
                            + pointer + " of events.features (columns: " + String.join(",", header) + ")");
                }
                feature[c] = true;
            }
            if (header.length - 1 - (keyCol >= 0 ? 1 : 0) < 1) {
                throw new IllegalArgumentException(file + " line 1: no value column (got " + headLine.strip() + ")");
            }
            StreamSettings.TimeFormat format = StreamSettings.TimeFormat.valueOf(cfg.eventsTimestampFormat().name());
            return new EventCsv(file, header, ts, keyCol, fixedKey, keyField, feature, format);
        }

        /** A field name ("id") or a one-level JSON pointer ("/id") as a field name. */
        private static String topLevelField(String field, String configKey) {
            if (!field.startsWith("/")) {
                return field;
            }
            String name = field.substring(1);
            if (name.contains("/")) {
                throw new IllegalArgumentException("config key " + configKey + ": replay writes flat events and cannot"
                        + " fill the nested field " + field);
            }
            return name.replace("~1", "/").replace("~0", "~");
        }

        private static String baseName(Path file) {
            String name = file.getFileName().toString();
            int dot = name.lastIndexOf('.');
            return dot > 0 ? name.substring(0, dot) : name;
        }

        /** Reads every row once, checking it; returns the number of rows. */
        long check() {
            long n = 0;
            Reader r = reader();
            while (r.next() != null) {
                n++;
            }
            return n;
        }

        Reader reader() {
            try {
                return new Reader(Files.newBufferedReader(file, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw readError(file, e);
            }
        }

        record Row(int line, byte[] key, byte[] value) {}

        /** Rows one by one; closes the file at the end. */
        final class Reader {
            private final BufferedReader in;
            private final ByteArrayBuilder buf = new ByteArrayBuilder(256);
            private int line = 1;
            private boolean done;

            Reader(BufferedReader in) throws IOException {
                this.in = in;
                in.readLine(); // the header
            }

            Row next() {
                if (done) {
                    return null;
                }
                try {
                    for (String text; (text = in.readLine()) != null; ) {
                        line++;
                        if (!text.isBlank()) {
                            return row(text);
                        }
                    }
                    done = true;
                    in.close();
                    return null;
                } catch (IOException e) {
                    close();
                    throw readError(file, e);
                } catch (RuntimeException e) {
                    close();
                    throw e;
                }
            }

            private void close() {
                done = true;
                try {
                    in.close();
                } catch (IOException ignored) {
                    // reading failed already
                }
            }

            private Row row(String text) throws IOException {
                List<String> cells = split(text);
                if (cells.size() != header.length) {
                    throw bad(cells.size() + " columns, the header has " + header.length + " ("
                            + String.join(",", header) + ")");
                }
                String ts = cells.get(timestampCol).strip();
                if (ts.isEmpty()) {
                    throw bad("empty timestamp");
                }
                if (timeFormat != StreamSettings.TimeFormat.RECORD) {
                    try {
                        EventParser.parseTimestamp(ts, timeFormat);
                    } catch (Rejection r) {
                        throw bad(r.getMessage());
                    }
                }
                String key = keyCol >= 0 ? cells.get(keyCol).strip() : fixedKey;
                if (key.isEmpty()) {
                    throw bad("empty key");
                }
                buf.reset();
                try (JsonGenerator g = JSON.createGenerator(buf, JsonEncoding.UTF8)) {
                    g.writeStartObject();
                    g.writeStringField(TIMESTAMP, ts);
                    if (keyField != null) {
                        g.writeStringField(keyField, key);
                    }
                    for (int c = 0; c < header.length; c++) {
                        if (c == timestampCol || c == keyCol || header[c].equals(keyField)) {
                            continue;
                        }
                        String cell = cells.get(c).strip();
                        if (feature[c]) {
                            if (cell.isEmpty()) {
                                throw bad("empty " + header[c]);
                            }
                            if (!number(g, header[c], cell)) {
                                throw bad(header[c] + " is not a number: '" + abbreviate(cell) + "'");
                            }
                        } else if (!cell.isEmpty() && !number(g, header[c], cell)) {
                            g.writeStringField(header[c], cell);
                        }
                    }
                    g.writeEndObject();
                }
                return new Row(line, key.getBytes(StandardCharsets.UTF_8), buf.toByteArray());
            }

            private IllegalArgumentException bad(String why) {
                close();
                return new IllegalArgumentException(file + " line " + line + ": " + why);
            }
        }

        /** Writes the field if {@code text} is a finite number (JSON has no NaN); false if it is not one. */
        private static boolean number(JsonGenerator g, String name, String text) throws IOException {
            if (!NUMBER.matcher(text).matches()) {
                return false;
            }
            if (INTEGER.matcher(text).matches()) {
                g.writeNumberField(name, Long.parseLong(text));
                return true;
            }
            double d = Double.parseDouble(text);
            if (!Double.isFinite(d)) {
                return false;
            }
            g.writeNumberField(name, d);
            return true;
        }

        /** One CSV line's cells: commas separate, double quotes quote (a doubled quote is a quote). */
        static List<String> split(String line) {
            List<String> cells = new ArrayList<>();
            StringBuilder cell = new StringBuilder();
            boolean quoted = false;
            for (int i = 0; i < line.length(); i++) {
                char ch = line.charAt(i);
                if (quoted) {
                    if (ch == '"') {
                        if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                            cell.append('"');
                            i++;
                        } else {
                            quoted = false;
                        }
                    } else {
                        cell.append(ch);
                    }
                } else if (ch == '"' && cell.toString().isBlank()) {
                    cell.setLength(0);
                    quoted = true;
                } else if (ch == ',') {
                    cells.add(cell.toString());
                    cell.setLength(0);
                } else {
                    cell.append(ch);
                }
            }
            cells.add(cell.toString());
            return cells;
        }

        private static String abbreviate(String s) {
            return s.length() <= 40 ? s : s.substring(0, 37) + "...";
        }

        private static IllegalArgumentException readError(Path file, IOException e) {
            if (e instanceof NoSuchFileException) {
                return new IllegalArgumentException(file + ": no such file");
            }
            if (e instanceof AccessDeniedException) {
                return new IllegalArgumentException(file + ": permission denied");
            }
            if (e instanceof MalformedInputException) {
                return new IllegalArgumentException(file + ": not UTF-8 text");
            }
            if (Files.isDirectory(file)) {
                return new IllegalArgumentException(file + ": is a directory");
            }
            return new IllegalArgumentException(file + ": " + String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT));
        }
    }
}

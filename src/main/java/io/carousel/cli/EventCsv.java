package io.carousel.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.carousel.config.CarouselConfig;
import io.carousel.streams.EventParser;
import io.carousel.streams.Rejection;
import io.carousel.streams.StreamSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A CSV of events: its header decides the columns' roles; rows become (key, JSON) pairs.
 * Every problem is an IllegalArgumentException naming the file and line.
 */
final class EventCsv {
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
    /** The column of the first feature (the forecast target), or -1 when it is nested. */
    private final int valueCol;
    /** The ground-truth column, or -1. */
    private final int labelCol;

    private EventCsv(Path file, String[] header, int timestampCol, int keyCol, String fixedKey, String keyField,
                     boolean[] feature, StreamSettings.TimeFormat timeFormat, int valueCol) {
        this.file = file;
        this.header = header;
        this.timestampCol = timestampCol;
        this.keyCol = keyCol;
        this.fixedKey = fixedKey;
        this.keyField = keyField;
        this.feature = feature;
        this.timeFormat = timeFormat;
        this.valueCol = valueCol;
        this.labelCol = List.of(header).indexOf(LABEL);
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
        int valueCol = -1;
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
            if (pointer.equals(cfg.eventsFeatures().get(0))) {
                valueCol = c;
            }
        }
        if (header.length - 1 - (keyCol >= 0 ? 1 : 0) < 1) {
            throw new IllegalArgumentException(file + " line 1: no value column (got " + headLine.strip() + ")");
        }
        StreamSettings.TimeFormat format = StreamSettings.TimeFormat.valueOf(cfg.eventsTimestampFormat().name());
        return new EventCsv(file, header, ts, keyCol, fixedKey, keyField, feature, format, valueCol);
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

    /**
     * The number of non-blank lines after the header, without checking them: a cheap total for a
     * progress bar (each such line is a row, good or bad). 0 if the file cannot be read.
     */
    long countLines() {
        long n = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            if (r.readLine() == null) {
                return 0;
            }
            for (String text; (text = r.readLine()) != null; ) {
                if (!text.isBlank()) {
                    n++;
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
        return n;
    }

    /** Whether the file has a ground-truth column ({@value #LABEL}). */
    boolean hasLabel() {
        return labelCol >= 0;
    }

    /** Rows one by one; the first bad row throws and closes the file. */
    Reader reader() {
        return reader(false);
    }

    /**
     * Rows one by one. With {@code goOnAfterBad}, a bad row throws a {@link BadRow} and the next call
     * goes on with the following row (a read error still ends the file).
     */
    Reader reader(boolean goOnAfterBad) {
        try {
            return new Reader(Files.newBufferedReader(file, StandardCharsets.UTF_8), goOnAfterBad);
        } catch (IOException e) {
            throw readError(file, e);
        }
    }

    /**
     * One row as an event: its line, key and JSON value, and for reports the timestamp cell as
     * written, the first feature's cell ("" when it is nested), the label cell ("" without one) and
     * the time in epoch ms (-1 with events.timestamp.format=record).
     */
    record Row(int line, byte[] key, byte[] value, String timestamp, String valueText, String label, long time) {}

    /** A row that cannot be an event; its message names the file and line. */
    static final class BadRow extends IllegalArgumentException {
        final int line;

        BadRow(String message, int line) {
            super(message);
            this.line = line;
        }
    }

    /** Rows one by one; closes the file at the end. */
    final class Reader {
        private final BufferedReader in;
        private final ByteArrayBuilder buf = new ByteArrayBuilder(256);
        private final boolean goOnAfterBad;
        private int line = 1;
        private boolean done;

        Reader(BufferedReader in, boolean goOnAfterBad) throws IOException {
            this.in = in;
            this.goOnAfterBad = goOnAfterBad;
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
            } catch (BadRow e) {
                if (!goOnAfterBad) {
                    close();
                }
                throw e;
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
            long time = -1;
            if (timeFormat != StreamSettings.TimeFormat.RECORD) {
                try {
                    time = EventParser.parseTimestamp(ts, timeFormat);
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
            return new Row(line, key.getBytes(StandardCharsets.UTF_8), buf.toByteArray(), ts,
                    valueCol >= 0 ? cells.get(valueCol).strip() : "", labelCol >= 0 ? cells.get(labelCol).strip() : "", time);
        }

        private BadRow bad(String why) {
            return new BadRow(file + " line " + line + ": " + why, line);
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

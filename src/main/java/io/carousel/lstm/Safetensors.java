package io.carousel.lstm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON mapping each
 * tensor name to {dtype, shape, data_offsets} (plus a string-valued {@code __metadata__}), then
 * the raw little-endian tensor bytes. Carousel writes F32 (or F64) and reads F32 and F64.
 *
 * <p>Every way a file can be wrong ends in a {@link FormatException} whose one-line message names
 * the file and the problem.
 */
public final class Safetensors {

    /** Metadata keys holding the model's shape (values are decimal strings, as the format requires). */
    public static final String INPUT_SIZE = "input_size";
    public static final String HIDDEN_SIZE = "hidden_size";
    public static final String NUM_LAYERS = "num_layers";
    public static final String OUTPUT_SIZE = "output_size";

    /** Larger headers are refused: a corrupt length must not make us allocate gigabytes. */
    private static final long MAX_HEADER = 100L << 20;

    /** A malformed, truncated or inconsistent file. */
    public static final class FormatException extends IllegalArgumentException {
        public FormatException(String message) {
            super(message);
        }
    }

    /** One tensor as read: its shape and values widened to double. */
    public record Tensor(String dtype, int[] shape, double[] values) {
        public int size() {
            return values.length;
        }
    }

    /** All tensors of a file, in header order, and its metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    private Safetensors() {}

    /** Writes the model's tensors (PyTorch names) and its shape and metadata. */
    public static void write(Path file, LstmModel model, boolean float64) {
        writeBytes(file, toBytes(model, float64));
    }

    /** The bytes of the file {@link #write} would write. */
    public static byte[] toBytes(LstmModel model, boolean float64) {
        Map<String, String> meta = new LinkedHashMap<>(model.metadata());
        LstmShape s = model.shape();
        meta.put(INPUT_SIZE, Integer.toString(s.inputSize()));
        meta.put(HIDDEN_SIZE, Integer.toString(s.hiddenSize()));
        meta.put(NUM_LAYERS, Integer.toString(s.layers()));
        meta.put(OUTPUT_SIZE, Integer.toString(s.outputSize()));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (ParamLayout.Tensor t : model.layout().tensors()) {
            double[] v = new double[t.size()];
            System.arraycopy(model.params(), t.offset(), v, 0, v.length);
            tensors.put(t.name(), new Tensor(float64 ? "F64" : "F32", t.dims(), v));
        }
        return tensorBytes(tensors, meta);
    }

    /** Reads a model from bytes as {@link #read} reads a file; {@code name} is used in messages. */
    public static LstmModel fromBytes(String name, byte[] bytes) {
        return toModel(name, parse(name, bytes), "");
    }

    /** Writes arbitrary tensors (each in its own dtype, F32 or F64). */
    public static void writeTensors(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        writeBytes(file, tensorBytes(tensors, metadata));
    }

    private static byte[] tensorBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        StringBuilder h = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            MiniJson.quote(h, "__metadata__");
            h.append(":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (!first) {
                    h.append(',');
                }
                first = false;
                MiniJson.quote(h, e.getKey());
                h.append(':');
                MiniJson.quote(h, e.getValue());
            }
            h.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            int width = width(t.dtype());
            if (h.length() > 1) {
                h.append(',');
            }
            MiniJson.quote(h, e.getKey());
            h.append(":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":[");
            for (int i = 0; i < t.shape().length; i++) {
                h.append(i > 0 ? "," : "").append(t.shape()[i]);
            }
            long end = offset + (long) t.size() * width;
            h.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        h.append('}');
        while ((8 + h.length()) % 8 != 0) {
            h.append(' ');
        }
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(8 + header.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length).put(header);
        for (Tensor t : tensors.values()) {
            boolean f64 = t.dtype().equals("F64");
            for (double v : t.values()) {
                if (f64) {
                    buf.putDouble(v);
                } else {
                    buf.putFloat((float) v);
                }
            }
        }
        return buf.array();
    }

    private static void writeBytes(Path file, byte[] bytes) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Path tmp = Files.createTempFile(parent, ".carousel-", ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static int width(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F64" -> 8;
            default -> throw new IllegalArgumentException("unsupported dtype " + dtype);
        };
    }

    /** Reads every tensor of a file. */
    public static Contents readTensors(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": no such file");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + e.getMessage());
        }
        return parse(file.toString(), bytes);
    }

    static Contents parse(String name, byte[] bytes) {
        if (bytes.length < 8) {
            throw new FormatException(name + ": not a safetensors file (" + bytes.length + " bytes, shorter than its 8-byte header length)");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong();
        if (n < 2 || n > MAX_HEADER || n > bytes.length - 8) {
            throw new FormatException(name + ": header length " + Long.toUnsignedString(n) + " does not fit a file of " + bytes.length + " bytes (truncated or not safetensors)");
        }
        String json = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        Object root;
        try {
            root = MiniJson.parse(json);
        } catch (IllegalArgumentException e) {
            throw new FormatException(name + ": " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> header)) {
            throw new FormatException(name + ": header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLen = bytes.length - dataStart;
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : header.entrySet()) {
            String key = (String) e.getKey();
            if (key.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> m)) {
                    throw new FormatException(name + ": __metadata__ is not an object");
                }
                for (Map.Entry<?, ?> me : m.entrySet()) {
                    if (!(me.getValue() instanceof String v)) {
                        throw new FormatException(name + ": metadata value of \"" + me.getKey() + "\" is not a string");
                    }
                    meta.put((String) me.getKey(), v);
                }
                continue;
            }
            tensors.put(key, tensor(name, key, e.getValue(), buf, dataStart, dataLen));
        }
        return new Contents(tensors, meta);
    }

    private static Tensor tensor(String name, String key, Object spec, ByteBuffer buf, long dataStart, long dataLen) {
        String where = name + ": tensor \"" + key + "\"";
        if (!(spec instanceof Map<?, ?> m)) {
            throw new FormatException(where + " is not an object");
        }
        if (!(m.get("dtype") instanceof String dtype)) {
            throw new FormatException(where + " has no dtype");
        }
        if (!dtype.equals("F32") && !dtype.equals("F64")) {
            throw new FormatException(where + " has dtype " + dtype + "; Carousel reads F32 and F64");
        }
        if (!(m.get("shape") instanceof List<?> dims) || !(m.get("data_offsets") instanceof List<?> offs) || offs.size() != 2) {
            throw new FormatException(where + " needs a shape and two data_offsets");
        }
        int[] shape = new int[dims.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new FormatException(where + " has an invalid dimension " + dims.get(i));
            }
            shape[i] = (int) (long) d;
            count *= d;
        }
        if (!(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end) || begin < 0 || end < begin) {
            throw new FormatException(where + " has invalid data_offsets " + offs);
        }
        int width = width(dtype);
        if (end - begin != count * width) {
            throw new FormatException(where + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs "
                    + count * width + " bytes, data_offsets give " + (end - begin));
        }
        if (end > dataLen) {
            throw new FormatException(where + " ends at byte " + end + " but the data is " + dataLen + " bytes (truncated file)");
        }
        double[] v = new double[(int) count];
        int pos = (int) (dataStart + begin);
        for (int i = 0; i < v.length; i++) {
            v[i] = width == 4 ? buf.getFloat(pos + 4 * i) : buf.getDouble(pos + 8 * i);
        }
        return new Tensor(dtype, shape, v);
    }

    /** Reads a model: the shape from the metadata, checked against the tensors, or inferred from them. */
    public static LstmModel read(Path file) {
        return toModel(file.toString(), readTensors(file), "");
    }

    /**
     * Builds a model from tensors named {@code prefix + <PyTorch name>}; the shape comes from the
     * metadata when present and must agree with every tensor.
     */
    public static LstmModel toModel(String name, Contents c, String prefix) {
        Tensor wih0 = c.tensors().get(prefix + "weight_ih_l0");
        Tensor head = c.tensors().get(prefix + "head.weight");
        if (wih0 == null || head == null || wih0.shape().length != 2 || head.shape().length != 2) {
            throw new FormatException(name + ": not a Carousel model (needs tensors " + prefix + "weight_ih_l0 and "
                    + prefix + "head.weight, both 2-D)");
        }
        int layers = 0;
        while (c.tensors().containsKey(prefix + "weight_ih_l" + layers)) {
            layers++;
        }
        int hidden = wih0.shape()[0] / LstmModel.GATES;
        LstmShape inferred;
        try {
            inferred = new LstmShape(wih0.shape()[1], hidden, layers, head.shape()[0]);
        } catch (IllegalArgumentException e) {
            throw new FormatException(name + ": " + e.getMessage());
        }
        LstmShape shape = inferred;
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        if (meta.containsKey(HIDDEN_SIZE) || meta.containsKey(INPUT_SIZE)) {
            shape = new LstmShape(metaInt(name, meta, INPUT_SIZE), metaInt(name, meta, HIDDEN_SIZE),
                    metaInt(name, meta, NUM_LAYERS), metaInt(name, meta, OUTPUT_SIZE));
            if (!shape.equals(inferred)) {
                throw new FormatException(name + ": metadata says " + shape + " but the tensors have " + inferred);
            }
        }
        for (String k : List.of(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, OUTPUT_SIZE)) {
            meta.remove(k);
        }
        ParamLayout layout = new ParamLayout(shape, LstmModel.GATES);
        double[] params = new double[layout.size()];
        for (ParamLayout.Tensor t : layout.tensors()) {
            Tensor got = c.tensors().get(prefix + t.name());
            if (got == null) {
                throw new FormatException(name + ": missing tensor " + prefix + t.name());
            }
            if (!java.util.Arrays.equals(squeeze(got.shape()), squeeze(t.dims()))) {
                throw new FormatException(name + ": tensor " + prefix + t.name() + " has shape "
                        + java.util.Arrays.toString(got.shape()) + ", expected " + java.util.Arrays.toString(t.dims()));
            }
            for (double v : got.values()) {
                if (!Double.isFinite(v)) {
                    throw new FormatException(name + ": tensor " + prefix + t.name() + " holds a non-finite value");
                }
            }
            System.arraycopy(got.values(), 0, params, t.offset(), t.size());
        }
        return new LstmModel(shape, params, meta);
    }

    private static int[] squeeze(int[] dims) {
        return java.util.Arrays.stream(dims).filter(d -> d != 1).toArray();
    }

    private static int metaInt(String name, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) {
            throw new FormatException(name + ": metadata lacks " + key);
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new FormatException(name + ": metadata " + key + " is not an integer: \"" + v + "\"");
        }
    }
}

package io.carousel.lstm;

import java.nio.file.Path;

/** The PyTorch reference fixtures made by src/test/python/make_fixtures.py. */
final class Fixtures {

    static final Path DIR = Path.of("src/test/resources/parity");

    private Fixtures() {}

    static Safetensors.Contents load(String name) {
        return Safetensors.readTensors(DIR.resolve(name + ".safetensors"));
    }

    static double[] values(Safetensors.Contents c, String tensor) {
        Safetensors.Tensor t = c.tensors().get(tensor);
        if (t == null) {
            throw new AssertionError("fixture lacks tensor " + tensor);
        }
        return t.values();
    }

    static int meta(Safetensors.Contents c, String key) {
        return Integer.parseInt(c.metadata().get(key));
    }

    static double metaDouble(Safetensors.Contents c, String key) {
        return Double.parseDouble(c.metadata().get(key));
    }

    /** The model stored under the {@code init.} prefix. */
    static LstmModel initModel(String name, Safetensors.Contents c) {
        return Safetensors.toModel(name, c, "init.");
    }

    /** The gradient tensors ({@code prefix + name}) laid out as the model's flat buffer. */
    static double[] flat(Safetensors.Contents c, ParamLayout layout, String prefix) {
        double[] g = new double[layout.size()];
        for (ParamLayout.Tensor t : layout.tensors()) {
            System.arraycopy(values(c, prefix + t.name()), 0, g, t.offset(), t.size());
        }
        return g;
    }

    /** Largest |a-b| / max(|b|, floor) over the arrays: a relative error that tolerates values near 0. */
    static double maxRelError(double[] a, double[] b, double floor) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
        }
        return worst;
    }
}

package io.carousel.lstm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where each named tensor lives in a model's single flat parameter buffer. The order and names are
 * PyTorch's: per layer {@code weight_ih_l{n}} [G*H, D_in], {@code weight_hh_l{n}} [G*H, H],
 * {@code bias_ih_l{n}} [G*H], {@code bias_hh_l{n}} [G*H]; then {@code head.weight} [O, H] and
 * {@code head.bias} [O]. G is the number of gates: 4 for an LSTM (i, f, g, o), 1 for a plain RNN.
 * Gradients and optimizer moments use the same layout, so one loop updates everything.
 */
public final class ParamLayout {

    /** One named tensor: row-major, {@code rows x cols} (cols = 1 for a vector). */
    public record Tensor(String name, int offset, int[] dims) {
        public int size() {
            int n = 1;
            for (int d : dims) {
                n *= d;
            }
            return n;
        }
    }

    private final LstmShape shape;
    private final int gates;
    private final List<Tensor> tensors;
    private final int[] wIh;
    private final int[] wHh;
    private final int[] bIh;
    private final int[] bHh;
    private final int headW;
    private final int headB;
    private final int size;

    public ParamLayout(LstmShape shape, int gates) {
        this.shape = shape;
        this.gates = gates;
        int h = shape.hiddenSize();
        int gh = gates * h;
        List<Tensor> list = new ArrayList<>();
        wIh = new int[shape.layers()];
        wHh = new int[shape.layers()];
        bIh = new int[shape.layers()];
        bHh = new int[shape.layers()];
        int off = 0;
        for (int l = 0; l < shape.layers(); l++) {
            int din = shape.layerInput(l);
            wIh[l] = off;
            list.add(new Tensor("weight_ih_l" + l, off, new int[] {gh, din}));
            off += gh * din;
            wHh[l] = off;
            list.add(new Tensor("weight_hh_l" + l, off, new int[] {gh, h}));
            off += gh * h;
            bIh[l] = off;
            list.add(new Tensor("bias_ih_l" + l, off, new int[] {gh}));
            off += gh;
            bHh[l] = off;
            list.add(new Tensor("bias_hh_l" + l, off, new int[] {gh}));
            off += gh;
        }
        headW = off;
        list.add(new Tensor("head.weight", off, new int[] {shape.outputSize(), h}));
        off += shape.outputSize() * h;
        headB = off;
        list.add(new Tensor("head.bias", off, new int[] {shape.outputSize()}));
        off += shape.outputSize();
        size = off;
        tensors = Collections.unmodifiableList(list);
    }

    public LstmShape shape() {
        return shape;
    }

    public int gates() {
        return gates;
    }

    public List<Tensor> tensors() {
        return tensors;
    }

    /** The tensor of that name, or null. */
    public Tensor tensor(String name) {
        for (Tensor t : tensors) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** Total number of parameters. */
    public int size() {
        return size;
    }

    public int weightIh(int layer) {
        return wIh[layer];
    }

    public int weightHh(int layer) {
        return wHh[layer];
    }

    public int biasIh(int layer) {
        return bIh[layer];
    }

    public int biasHh(int layer) {
        return bHh[layer];
    }

    public int headWeight() {
        return headW;
    }

    public int headBias() {
        return headB;
    }
}

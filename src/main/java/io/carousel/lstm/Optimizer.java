package io.carousel.lstm;

/**
 * Updates a flat parameter buffer from a gradient of the same layout, with PyTorch's semantics.
 * Implementations keep their moment buffers in that layout too.
 */
public interface Optimizer {

    /** One update: {@code params} changes in place; {@code grad} is read, not modified. */
    void step(double[] params, double[] grad);

    /** Updates taken so far. */
    long steps();

    /**
     * Adam as torch.optim.Adam (Kingma and Ba, 2015, Algorithm 1, with PyTorch's placement of eps
     * after the bias-corrected square root, and L2 weight decay added to the gradient).
     */
    static Optimizer adam(int size, double lr, double beta1, double beta2, double eps, double weightDecay) {
        return new Adam(size, lr, beta1, beta2, eps, weightDecay);
    }

    static Optimizer adam(int size, double lr) {
        return adam(size, lr, 0.9, 0.999, 1e-8, 0.0);
    }

    /** SGD as torch.optim.SGD (momentum with dampening 0, not Nesterov; L2 weight decay). */
    static Optimizer sgd(int size, double lr, double momentum, double weightDecay) {
        return new Sgd(size, lr, momentum, weightDecay);
    }

    /**
     * Scales {@code grad} in place so its global L2 norm is at most {@code maxNorm}, exactly as
     * torch.nn.utils.clip_grad_norm_: coefficient maxNorm / (norm + 1e-6), applied when below 1.
     *
     * @return the norm before clipping
     */
    static double clipGradNorm(double[] grad, double maxNorm) {
        double sum = 0;
        for (double g : grad) {
            sum += g * g;
        }
        double norm = Math.sqrt(sum);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1.0) {
            for (int i = 0; i < grad.length; i++) {
                grad[i] *= coef;
            }
        }
        return norm;
    }

    /** Checks hyper-parameters with messages naming them. */
    static void require(boolean ok, String name, double value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(name + " must be " + rule + ", got " + value);
        }
    }
}

final class Adam implements Optimizer {
    private final double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final double[] m;
    private final double[] v;
    private long t;

    Adam(int size, double lr, double beta1, double beta2, double eps, double weightDecay) {
        Optimizer.require(lr > 0 && Double.isFinite(lr), "learning rate", lr, "positive");
        Optimizer.require(beta1 >= 0 && beta1 < 1, "beta1", beta1, "in [0, 1)");
        Optimizer.require(beta2 >= 0 && beta2 < 1, "beta2", beta2, "in [0, 1)");
        Optimizer.require(eps >= 0, "eps", eps, "non-negative");
        Optimizer.require(weightDecay >= 0, "weight decay", weightDecay, "non-negative");
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.m = new double[size];
        this.v = new double[size];
    }

    @Override
    public void step(double[] params, double[] grad) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
        double stepSize = lr / bc1;
        for (int i = 0; i < params.length; i++) {
            double g = grad[i];
            if (weightDecay != 0) {
                g += weightDecay * params[i];
            }
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            double denom = Math.sqrt(v[i]) / bc2Sqrt + eps;
            params[i] -= stepSize * m[i] / denom;
        }
    }

    @Override
    public long steps() {
        return t;
    }
}

final class Sgd implements Optimizer {
    private final double lr;
    private final double momentum;
    private final double weightDecay;
    private final double[] buf;
    private long t;

    Sgd(int size, double lr, double momentum, double weightDecay) {
        Optimizer.require(lr > 0 && Double.isFinite(lr), "learning rate", lr, "positive");
        Optimizer.require(momentum >= 0 && momentum < 1, "momentum", momentum, "in [0, 1)");
        Optimizer.require(weightDecay >= 0, "weight decay", weightDecay, "non-negative");
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.buf = momentum != 0 ? new double[size] : null;
    }

    @Override
    public void step(double[] params, double[] grad) {
        boolean first = t == 0;
        t++;
        for (int i = 0; i < params.length; i++) {
            double g = grad[i];
            if (weightDecay != 0) {
                g += weightDecay * params[i];
            }
            if (buf != null) {
                buf[i] = first ? g : momentum * buf[i] + g;
                g = buf[i];
            }
            params[i] -= lr * g;
        }
    }

    @Override
    public long steps() {
        return t;
    }
}

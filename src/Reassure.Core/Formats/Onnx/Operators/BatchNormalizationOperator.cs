using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// BatchNormalization in inference mode: y = scale (x - mean) / sqrt(var + epsilon) + B per channel (axis 1), i.e. the
/// per-channel affine map y = k_c x + (B_c - k_c mean_c) with k_c = scale_c / sqrt(var_c + epsilon), folded into the
/// preceding affine map (a per-element scale composed with it, and the shift in the offset). training_mode = 1 is refused.
/// </summary>
internal static class BatchNormalizationOperator
{
    public static void BatchNormalization(ImportContext ctx, NodeProto node)
    {
        var a = ctx.Input(node, 0) as AffineValue
            ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "X (input 0) is a constant; expected it to depend on the network input");
        ctx.OnCurrentBase(node, a);
        if (ImportContext.Int(node, "training_mode", 0) != 0)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "training_mode = 1 computes batch statistics; expected inference mode (training_mode = 0)");
        if (a.Shape.Length < 1) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "X has no channel axis; expected [batch, C, ...]");
        int channels = a.Shape[0];
        var scale = ctx.ConstantInput(node, 1, "scale");
        var bias = ctx.ConstantInput(node, 2, "B");
        var mean = ctx.ConstantInput(node, 3, "input_mean");
        var variance = ctx.ConstantInput(node, 4, "input_var");
        foreach (var (t, role) in new[] { (scale, "scale"), (bias, "B"), (mean, "input_mean"), (variance, "input_var") })
            if (t.Data.Length != channels)
                throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"{role} has {t.Data.Length} values; expected one per channel ({channels})");
        double epsilon = ImportContext.Float(node, "epsilon", 1e-5);
        int plane = a.Count / channels;
        var k = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double v = variance.Data[c] + epsilon;
            if (!(v > 0)) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"input_var + epsilon of channel {c} is {v}; expected a positive value");
            k[c] = scale.Data[c] / Math.Sqrt(v);
        }
        var perElement = new double[a.Count];
        var offset = new double[a.Count];
        var index = new int[a.Count];
        for (int e = 0; e < a.Count; e++)
        {
            int c = e / plane;
            index[e] = e;
            perElement[e] = k[c];
            offset[e] = k[c] * (a.Offset[e] - mean.Data[c]) + bias.Data[c];
        }
        ctx.Output(node, a.Then(SparseMap.Gather(a.Count, index, perElement), offset, a.Shape, a.WeightName, a.BiasName));
    }
}

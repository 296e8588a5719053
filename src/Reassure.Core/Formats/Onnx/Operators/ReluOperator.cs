using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// Relu closes a layer: the affine value feeding it, z = M u + c, becomes a <see cref="Layer"/> (W = M, b = c) with a
/// ReLU, and its output becomes the next layer input (the identity on a new base). The layer records the initializers of
/// its weights and bias, the tensor feeding the Relu (pre-activation) and the Relu output. Relu of a constant is folded.
/// </summary>
internal static class ReluOperator
{
    public static void Relu(ImportContext ctx, NodeProto node)
    {
        var x = ctx.Input(node, 0);
        if (x is ConstantValue c)
        {
            ctx.Output(node, new ConstantValue(c.Shape, c.Data.Select(v => v > 0 ? v : 0.0).ToArray()));
            return;
        }
        var a = ctx.OnCurrentBase(node, (AffineValue)x);
        if (ctx.Layers.Count > 0 && a.Map is null && a.WeightName is null && a.Offset.All(v => v == 0))
        {
            // Relu of a Relu output (or of a max pool of one) is that output: the values are already >= 0.
            ctx.Output(node, a);
            return;
        }
        var names = new LayerNames(a.WeightName, a.BiasName, node.Input[0], node.Output[0]);
        ctx.Layers.Add(new Layer(a.MapOrDenseIdentity(), (double[])a.Offset.Clone(), relu: true, names));
        ctx.CurrentBase++;
        ctx.Output(node, AffineValue.Identity(a.Shape, ctx.CurrentBase));
    }
}

using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// MaxPool (2-D, NCHW) directly after a Relu: the layer the Relu closed gets a max pool over its outputs
/// (<see cref="Layer.MaxPool"/>), evaluated exactly. Max pooling is piecewise linear, not affine: the regions carry the
/// winner of every window (<see cref="PoolLayout"/>, method.md §12); what has no exact treatment of them refuses with
/// RSR1015 instead of approximating. A MaxPool anywhere else (on an
/// affine value, or a second one on the same layer) and the Indices output are refused with RSR1003.
/// </summary>
internal static class MaxPoolOperator
{
    public static void MaxPool(ImportContext ctx, NodeProto node)
    {
        var a = Layout.Image(ctx, node);
        if (node.Output.Count > 1 && node.Output[1].Length > 0)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedOperator, node, "the Indices output is used; expected only the pooled values");
        bool reluOutput = ctx.Layers.Count > 0 && a.Map is null && a.WeightName is null && a.Offset.All(v => v == 0) && a.Base == ctx.CurrentBase;
        if (!reluOutput || ctx.Layers[^1].MaxPool is not null)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedOperator, node,
                "MaxPool is supported directly on the output of a Relu (Conv, Relu, MaxPool); expected its input to be a Relu output that is not pooled yet");
        var kernel = Layout.Pair(ctx, node, "kernel_shape", 0);
        if (kernel.H == 0) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "kernel_shape is missing; expected [kH, kW]");
        var strides = Layout.Pair(ctx, node, "strides", 1);
        var dilations = Layout.Pair(ctx, node, "dilations", 1);
        var pads = Layout.Pads(ctx, node);
        if (ImportContext.Int(node, "ceil_mode", 0) != 0)
        {
            int spanH = a.Shape[1] + pads.Top + pads.Bottom - (dilations.H * (kernel.H - 1) + 1), spanW = a.Shape[2] + pads.Left + pads.Right - (dilations.W * (kernel.W - 1) + 1);
            if (spanH % strides.H != 0 || spanW % strides.W != 0)
                throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "ceil_mode = 1 adds a partial window here; expected ceil_mode = 0 (or windows that tile the input)");
        }
        MaxPoolWindows pool;
        int oh, ow;
        try
        {
            pool = MaxPoolWindows.Pool2d(a.Shape[0], a.Shape[1], a.Shape[2], kernel.H, kernel.W, strides.H, strides.W,
                pads.Top, pads.Left, pads.Bottom, pads.Right, dilations.H, dilations.W, out oh, out ow);
        }
        catch (ArgumentException e)
        {
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"the pool does not fit X [batch, {string.Join(", ", a.Shape)}]: {e.Message}");
        }
        var last = ctx.Layers[^1];
        ctx.Layers[^1] = last.WithMaxPool(pool);
        ctx.Output(node, AffineValue.Identity([a.Shape[0], oh, ow], ctx.CurrentBase));
    }
}

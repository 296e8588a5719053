using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>Dropout at inference: the identity (training_mode, when given, must be a constant false).</summary>
internal static class DropoutOperator
{
    public static void Dropout(ImportContext ctx, NodeProto node)
    {
        if (ImportContext.HasInput(node, 2) && ctx.ConstantInput(node, 2, "training_mode").Data.Any(v => v != 0))
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "training_mode is true; expected inference (no dropout)");
        if (node.Output.Count > 1 && node.Output[1].Length > 0)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "the mask output is used; expected only the data output");
        ctx.Output(node, ctx.Input(node, 0));
    }
}

using Reassure.Repair;

namespace Reassure.Build.Tasks;

/// <summary>What the gate reads of a repair result: the repaired model, its supports and the buggy rows' statuses.</summary>
internal sealed record RepairedView(Func<double[], double[]> Evaluate, Func<double[], bool> InAnySupport, IReadOnlyList<InputStatus> Inputs)
{
    public static RepairedView Of(RepairResult result) =>
        new(x => result.Network.Evaluate(x), x => result.Network.InAnySupport(x), result.Inputs);
}

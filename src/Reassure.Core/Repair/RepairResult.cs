using Reassure.Patching;
using Reassure.Specifications;

namespace Reassure.Repair;

/// <summary>One input to repair and the specification it must meet.</summary>
/// <param name="Input">The input x, <c>[n]</c>.</param>
/// <param name="Spec">The specification f(x) must meet after repair.</param>
/// <param name="Id">A name for reports (row number, image index).</param>
public sealed record BuggyInput(double[] Input, Specification Spec, string? Id = null);

/// <summary>What became of one buggy input.</summary>
/// <param name="Index">Position in the input list.</param>
/// <param name="Id">The input's name.</param>
/// <param name="Fixed">Meets its specification in the double evaluator of the repaired network.</param>
/// <param name="FixedFloat32">Meets it in ONNX Runtime (float32) on the exported graph; null when not checked.</param>
/// <param name="Patch">Index of the patch whose region holds the input.</param>
/// <param name="ErrorCode">RSR code when the input could not be repaired.</param>
/// <param name="Message">What went wrong.</param>
public sealed record InputStatus(int Index, string? Id, bool Fixed, bool? FixedFloat32, int? Patch, string? ErrorCode = null, string? Message = null)
{
    /// <summary>
    /// The one answer to "is this row fixed?" every front door and report uses: it meets its specification in double,
    /// in float32 where that was checked, and no error was reported on it (an RSR3006 patch that failed its independent
    /// check, a budget, a conflict: all "not fixed").
    /// </summary>
    public bool IsFixed => Fixed && FixedFloat32 != false && ErrorCode is null;
}

/// <summary>Facts of one patch.</summary>
/// <param name="Index">Position in the patch order (method.md §5).</param>
/// <param name="PatternHash">Hash of the region's activation pattern.</param>
/// <param name="Gamma">The chosen support sharpness.</param>
/// <param name="Norm">max over the region of |p(x)|_inf.</param>
/// <param name="Inputs">Indices of the buggy inputs the patch fixes.</param>
/// <param name="SplitRows">Separating hyperplanes added to the region.</param>
/// <param name="Verified">Passed the independent LP check over the whole region.</param>
/// <param name="WorstSlack">The smallest slack of the specification rows over the region (LP), >= 0 when verified.</param>
/// <param name="RowsCertified">Row sides the check proved from the build's multipliers (weak duality in double).</param>
/// <param name="RowsByBuildStop">Row sides the check proved from the build's early stop plus the patch's own term.</param>
/// <param name="CheckLinearPrograms">LPs the check solved for the other row sides.</param>
public sealed record PatchInfo(int Index, string PatternHash, double Gamma, double Norm, IReadOnlyList<int> Inputs, int SplitRows, bool Verified, double WorstSlack,
    int RowsCertified = 0, int RowsByBuildStop = 0, int CheckLinearPrograms = 0);

/// <summary>Wall time per stage.</summary>
public sealed record RepairTimings(TimeSpan Regions, TimeSpan Patches, TimeSpan Soundness, TimeSpan Verify, TimeSpan Total, int LinearPrograms,
    int SimplexLinearPrograms = 0, int GlopFallbacks = 0);

/// <summary>The result of <see cref="O:Reassure.Repair.Repairer.Repair"/>.</summary>
public sealed class RepairResult
{
    /// <summary>Creates a result (the engine makes them; front doors and tests may build one to present or gate).</summary>
    public RepairResult(RepairedNetwork network, IReadOnlyList<InputStatus> inputs, IReadOnlyList<PatchInfo> patches, RepairTimings timings,
        IReadOnlyList<LinearSpecification?>? specs = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        Network = network;
        Specs = specs ?? network.Patches.Select(_ => (LinearSpecification?)null).ToList();
        Inputs = inputs;
        Patches = patches;
        Timings = timings;
    }

    /// <summary>The repaired network (original plus gated patches).</summary>
    public RepairedNetwork Network { get; }

    /// <summary>
    /// Per patch, the specification it was built and checked for over its region (null where unknown); the exporter
    /// stores them so that a later incremental repair keeps each patch's guarantee.
    /// </summary>
    public IReadOnlyList<LinearSpecification?> Specs { get; }

    /// <summary>One status per buggy input, in input order.</summary>
    public IReadOnlyList<InputStatus> Inputs { get; }

    /// <summary>One entry per patch, in patch order.</summary>
    public IReadOnlyList<PatchInfo> Patches { get; }

    /// <summary>Timings by stage.</summary>
    public RepairTimings Timings { get; }

    /// <summary>Number of inputs that meet their specification (double, and float32 where checked) with no error reported.</summary>
    public int FixedCount => Inputs.Count(i => i.IsFixed);

    /// <summary>The inputs that are not fixed (<see cref="InputStatus.IsFixed"/>), in input order.</summary>
    public IReadOnlyList<InputStatus> Unfixed => Inputs.Where(i => !i.IsFixed).ToList();

    /// <summary>Whether every input is fixed.</summary>
    public bool AllFixed => FixedCount == Inputs.Count;
}

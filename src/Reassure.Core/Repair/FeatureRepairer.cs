using Reassure.Networks;
using Reassure.Patching;

namespace Reassure.Repair;

/// <summary>Evaluates a feature-space repair in float32 the way it runs after export: the whole graph on the network inputs.</summary>
public interface IFeatureFloat32Evaluator
{
    /// <summary>
    /// Outputs <c>[N, m]</c> of the original graph with <paramref name="suffix"/>'s patch network attached after the split
    /// tensor, for the network inputs <paramref name="inputs"/> (<c>[N, n]</c>, not features).
    /// </summary>
    double[][] Evaluate(FeatureSplit split, RepairedNetwork suffix, IReadOnlyList<double[]> inputs);
}

/// <summary>
/// Feature-space repair (method.md §12): REASSURE on the suffix network s of a <see cref="FeatureSplit"/>, over a box U
/// of features. Each buggy input x is mapped to its features u = phi(x); regions, patches, supports and the
/// independent check are those of s over U (every guarantee of <see cref="Repairer"/> holds in feature space); the
/// repaired model is s'(phi(x)). U is <see cref="FeatureSplit.Bounds"/> of the input domain unless given.
/// </summary>
public static class FeatureRepairer
{
    /// <summary>
    /// Repairs the network of <paramref name="split"/> at its tensor so that every buggy input meets its specification.
    /// <paramref name="options"/>.Domain is the input domain (of x); <paramref name="featureBox"/> (of u) replaces the
    /// bounds derived from it. With <see cref="RepairOptions.CheckFloat32"/> the float32 check runs the whole exported
    /// graph through <paramref name="float32"/> (required then; <see cref="RepairOptions.Float32Evaluator"/> is not used).
    /// </summary>
    public static FeatureRepairResult Repair(
        FeatureSplit split,
        IReadOnlyList<BuggyInput> inputs,
        RepairOptions? options = null,
        InputBox? featureBox = null,
        IFeatureFloat32Evaluator? float32 = null,
        IProgress<RepairProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new RepairOptions();
        if (options.CheckFloat32 && float32 is null)
            throw new ReassureException(ErrorCodes.InvalidOption,
                "value 'null' is out of range; expected the float32 evaluator of the whole exported graph (e.g. OnnxFeatureFloat32Evaluator), or CheckFloat32 = false",
                "FeatureRepairer.Repair float32");
        if (featureBox is not null && featureBox.Dimension != split.FeatureSize)
            throw new ReassureException(ErrorCodes.InvalidOption,
                $"the feature box has {featureBox.Dimension} dimensions; expected {split.FeatureSize} (the width of tensor '{split.Tensor}')", "feature box");
        if (split.Suffix.HiddenCount == 0)
            throw new ReassureException(ErrorCodes.FeatureSplitUnsupported,
                $"the network after tensor '{split.Tensor}' is one affine layer (no Relu): it is a single linear region, so a region patch would change the model on every input; expected a Relu after the tensor (choose an earlier tensor)",
                split.Tensor);

        var domain = options.Domain ?? split.Prefix.Domain ?? Repairer.DefaultDomain(split.Prefix, inputs);
        var box = featureBox ?? split.Bounds(domain);
        var errors = new Dictionary<int, InputStatus>();
        var valid = new List<int>();
        var featureInputs = new List<BuggyInput>();
        var map = new Dictionary<double[], double[]>(ReferenceEqualityComparer.Instance); // features -> input
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            string name = Repairer.Name(inputs, i);
            if (input.Input.Length != split.InputSize)
            {
                errors[i] = Error(i, input, ErrorCodes.BadSpecification, $"Input {name} has {input.Input.Length} values; the network takes {split.InputSize}.");
                continue;
            }
            if (!domain.Contains(input.Input))
            {
                errors[i] = Error(i, input, ErrorCodes.InputOutsideDomain, $"Input {name} lies outside the repair domain box; widen RepairOptions.Domain.");
                continue;
            }
            var u = split.Features(input.Input);
            int outside = -1;
            for (int k = 0; k < u.Length && outside < 0; k++) if (u[k] < box.Lower[k] || u[k] > box.Upper[k]) outside = k;
            if (outside >= 0)
            {
                errors[i] = Error(i, input, ErrorCodes.InputOutsideDomain, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"The features of input {name} at tensor '{split.Tensor}' lie outside the feature box (feature {outside}: {u[outside]:R} not in [{box.Lower[outside]:R}, {box.Upper[outside]:R}]); widen the feature box."));
                continue;
            }
            valid.Add(i);
            featureInputs.Add(input with { Input = u });
            map[u] = input.Input;
        }

        var suffixOptions = options with
        {
            Domain = box,
            Float32Evaluator = float32 is null ? null : new MappedEvaluator(split, float32, map),
        };
        var result = Repairer.Repair(split.Suffix, featureInputs, suffixOptions, progress, cancellationToken);

        // Back to the caller's input indices.
        var statuses = new InputStatus[inputs.Count];
        foreach (var (i, status) in errors) statuses[i] = status;
        for (int k = 0; k < valid.Count; k++) statuses[valid[k]] = result.Inputs[k] with { Index = valid[k] };
        var patches = result.Patches.Select(p => p with { Inputs = p.Inputs.Select(k => valid[k]).ToList() }).ToList();
        return new FeatureRepairResult(split, box, new RepairResult(result.Network, statuses, patches, result.Timings, result.Specs));
    }

    private static InputStatus Error(int i, BuggyInput input, string code, string message) => new(i, input.Id, false, null, null, code, message);

    /// <summary>The float32 check of the suffix repair, run on the whole graph: features are mapped back to their inputs.</summary>
    private sealed class MappedEvaluator(FeatureSplit split, IFeatureFloat32Evaluator inner, Dictionary<double[], double[]> map) : IFloat32Evaluator
    {
        public double[][] Evaluate(RepairedNetwork network, IReadOnlyList<double[]> inputs) =>
            inner.Evaluate(split, network, inputs.Select(u => map.TryGetValue(u, out var x) ? x
                : throw new InvalidOperationException("The float32 check asked for features that are not a buggy input's.")).ToList());
    }
}

/// <summary>The result of <see cref="FeatureRepairer.Repair"/>: the suffix repair, in the caller's input order.</summary>
public sealed class FeatureRepairResult
{
    internal FeatureRepairResult(FeatureSplit split, InputBox featureBox, RepairResult suffix)
    {
        Split = split;
        FeatureBox = featureBox;
        Suffix = suffix;
    }

    /// <summary>The split the repair was built at.</summary>
    public FeatureSplit Split { get; }

    /// <summary>The box U of features the suffix repair holds on (its domain).</summary>
    public InputBox FeatureBox { get; }

    /// <summary>
    /// The repair of the suffix network over U: its network takes features; statuses and patch inputs are indexed like
    /// the buggy inputs given to <see cref="FeatureRepairer.Repair"/>.
    /// </summary>
    public RepairResult Suffix { get; }

    /// <summary>One status per buggy input, in input order.</summary>
    public IReadOnlyList<InputStatus> Inputs => Suffix.Inputs;

    /// <summary>Whether every input is fixed.</summary>
    public bool AllFixed => Suffix.AllFixed;

    /// <summary>The repaired model's output s'(phi(x)) in double, <c>[m]</c>.</summary>
    public double[] Evaluate(ReadOnlySpan<double> x) => Suffix.Network.Evaluate(Split.Features(x));

    /// <summary>
    /// The rows with every input replaced by its features phi(x) (labels and lines kept): what the suffix repair reads, so
    /// that figures computed on <see cref="Suffix"/>'s network (accuracy, output change) are those of the whole model.
    /// </summary>
    public Specifications.RowSet FeatureRows(Specifications.RowSet rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var features = new double[rows.Count][];
        Parallel.For(0, rows.Count, r => features[r] = Split.Features(rows.Inputs[r]));
        return rows with { Inputs = features };
    }

    /// <summary>Whether the features of x fall in some support (only then can the output differ from the original).</summary>
    public bool InAnySupport(ReadOnlySpan<double> x) => Suffix.Network.InAnySupport(Split.Features(x));
}

using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.MLNet;

/// <summary>
/// Repairs an ONNX ReLU classifier on the rows it gets wrong (REASSURE): <see cref="Fit"/> reads the feature and label
/// columns, selects the buggy rows, runs <see cref="O:Reassure.Repair.Repairer.Repair"/>, and returns a <see cref="RepairTransformer"/>
/// that scores with the repaired ONNX graph through ML.NET's <c>OnnxTransformer</c>.
/// </summary>
public sealed class RepairEstimator : IEstimator<RepairTransformer>
{
    private readonly MLContext _ml;
    private readonly RepairEstimatorOptions _options;

    internal RepairEstimator(MLContext mlContext, RepairEstimatorOptions options)
    {
        if (options.ModelPath is null == options.ModelBytes is null)
            throw new ArgumentException("Set exactly one of ModelPath and ModelBytes.", nameof(options));
        ArgumentException.ThrowIfNullOrEmpty(options.FeatureColumnName, nameof(options.FeatureColumnName));
        ArgumentException.ThrowIfNullOrEmpty(options.LabelColumnName, nameof(options.LabelColumnName));
        ArgumentException.ThrowIfNullOrEmpty(options.ScoreColumnName, nameof(options.ScoreColumnName));
        ArgumentException.ThrowIfNullOrEmpty(options.PredictedLabelColumnName, nameof(options.PredictedLabelColumnName));
        if (options.ScoreColumnName == options.PredictedLabelColumnName)
            throw new ArgumentException("Score and predicted-label columns need different names.", nameof(options));
        if (!(options.Margin > 0))
            throw new ArgumentOutOfRangeException(nameof(options), options.Margin, "Margin must be > 0.");
        if (options.FeatureBoxLower is null != options.FeatureBoxUpper is null
            || options.FeatureBoxLower is { } lo && options.FeatureBoxUpper is { } hi && !(double.IsFinite(lo) && double.IsFinite(hi) && lo <= hi))
            throw new ReassureException(ErrorCodes.InvalidOption,
                $"value '{options.FeatureBoxLower}:{options.FeatureBoxUpper}' is out of range; expected both ends, finite, lower <= upper", "RepairEstimatorOptions.FeatureBoxLower/FeatureBoxUpper");
        if (options.FeatureBoxLower is not null && options.Layer is null)
            throw new ReassureException(ErrorCodes.InvalidOption, "the feature box only applies with Layer (it bounds that tensor's features); set Layer or leave the box out", "RepairEstimatorOptions.FeatureBoxLower");
        if (options.Layer is not null && options.SensitiveFeatures is { Count: > 0 })
            throw new ReassureException(ErrorCodes.InvalidOption, "Layer (feature-space repair) and SensitiveFeatures (fairness repair) cannot be combined; leave one out", "RepairEstimatorOptions.Layer");
        _ml = mlContext;
        _options = options.Clone();
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var o = _options;
        SchemaChecks.Feature(inputSchema, o.FeatureColumnName);
        SchemaChecks.Label(inputSchema, o.LabelColumnName);
        if (o.BuggyColumnName is not null) SchemaChecks.Boolean(inputSchema, o.BuggyColumnName);

        // SchemaShape.Column has no public constructor: describe the added columns as a DataViewSchema.
        var label = SchemaChecks.Find(inputSchema, o.LabelColumnName)!.Value;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(o.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
        // A one-slot vector: ML.NET 5.0.1's OnnxTransformer cannot produce scalar outputs (see ArgMaxAppender). The key
        // mapping of a vector gives a vector of unknown size in ML.NET's type system.
        builder.AddColumn(o.PredictedLabelColumnName, new VectorDataViewType((PrimitiveDataViewType)label.ItemType, label.IsKey ? 0 : 1));
        var added = ShapeOf(builder.ToSchema());
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (var c in added) columns[c.Name] = c;
        return new SchemaShape(columns.Values);
    }

    // SchemaShape.Create is internal in ML.NET 5; SchemaShape.Column has no public constructor.
    private static readonly MethodInfo CreateShape = typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(DataViewSchema)])
        ?? throw new MissingMethodException(nameof(SchemaShape), "Create");

    private static SchemaShape ShapeOf(DataViewSchema schema) => (SchemaShape)CreateShape.Invoke(null, [schema])!;

    /// <inheritdoc />
    public RepairTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        var wall = Stopwatch.StartNew();
        // GPU inference (opt-in): the provider is checked before the repair, so a missing one costs no repair time.
        var gpu = GpuRequest();
        bool onGpu = gpu is not null;
        var warnings = new List<string>();
        if (gpu is { } g0)
        {
            using var cuda = CudaProvider.TryOptions(g0.Device, out var reason);
            if (cuda is null)
            {
                if (!g0.Fallback) throw CudaProvider.Unavailable(g0.Device, reason, "GpuDeviceId");
                warnings.Add(CudaProvider.FallbackWarning(g0.Device, reason, "GpuDeviceId"));
                onGpu = false;
            }
        }
        // A model repaired before (by this estimator, the CLI or the MSBuild task) is read as its graph runs it
        // (checked against its repair metadata) and repaired incrementally: its patches are kept, new ones added.
        var prior = o.ModelBytes is not null ? RepairedOnnxImporter.TryLoad(o.ModelBytes, "model bytes") : RepairedOnnxImporter.TryLoad(o.ModelPath!);
        var model = prior?.Original ?? (o.ModelBytes is not null ? OnnxImporter.Load(o.ModelBytes, "model bytes") : OnnxImporter.Load(o.ModelPath!));
        // The exported graph's input and output take the column names, as OnnxTransformer binds columns by name.
        var network = model.Network.With(inputName: o.FeatureColumnName, outputName: o.ScoreColumnName);
        int n = network.InputSize, m = network.OutputSize;

        var schema = input.Schema;
        var featureCol = SchemaChecks.Feature(schema, o.FeatureColumnName, n);
        var labelCol = SchemaChecks.Label(schema, o.LabelColumnName);
        var buggyCol = o.BuggyColumnName is null ? (DataViewSchema.Column?)null : SchemaChecks.Boolean(schema, o.BuggyColumnName);
        var labels = new LabelMap(labelCol, m);

        // Read the rows.
        var (rows, classes, marked) = RowReader.Read(input, featureCol, labelCol, labels, buggyCol, n, o.CancellationToken);

        // The original model's predictions, in double (the engine's arithmetic) and float32 (ONNX Runtime).
        var domain = prior?.Repaired.Domain ?? network.Domain ?? Repairer.DefaultDomain(network, []);
        var current = new RepairedNetwork(network, domain,
            prior?.Repaired.Patches.Select(gp => (gp.Region, gp.Patch, gp.Support, gp.Norm)).ToList() ?? []);
        var before32 = OnnxRuntimeFloat32Evaluator.Instance.Evaluate(current, rows);
        var buggyRows = new List<int>();
        int labelled = 0, correctBefore = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            long c = classes[r];
            bool valid = c >= 0 && c < m;
            if (valid) labelled++;
            // "Right": the label wins, or under Avoid the label is not the prediction.
            bool right32 = valid && (Prediction.Of(before32[r]) == c) != o.Avoid;
            if (right32) correctBefore++;
            bool wrong = buggyCol is not null ? marked[r] : valid && (!right32 || (Prediction.Of(current.Evaluate(rows[r])) == c) == o.Avoid);
            if (!wrong) continue;
            if (!valid)
                throw new ReassureException(ErrorCodes.RowsBadLabel,
                    $"the row is marked buggy by column '{o.BuggyColumnName}' but its label column '{o.LabelColumnName}' gives class {c}; expected 0..{m - 1}",
                    $"row {r.ToString(CultureInfo.InvariantCulture)}");
            buggyRows.Add(r);
        }

        // Repair.
        var inputs = buggyRows.Select(r => new BuggyInput(rows[r], o.Avoid
                ? AvoidSpecification.Create(network, rows[r], (int)classes[r], o.AvoidTarget, o.Margin)
                : new ClassificationSpecification((int)classes[r], o.Margin),
            "row " + r.ToString(CultureInfo.InvariantCulture))).ToList();
        var engineOptions = new RepairOptions
        {
            Mode = o.Mode,
            MaxPatches = o.MaxPatches,
            MaxTime = o.MaxTime,
            MaxDegreeOfParallelism = o.MaxDegreeOfParallelism ?? Environment.ProcessorCount,
            CheckFormulation = o.Check,
            LpEngine = o.LpEngine,
            Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance,
        };
        RepairResult result;
        OnnxFeatureSplit? split = null;
        FeatureRepairResult? inFeatures = null;
        if (o.Layer is not null)
        {
            if (prior is not null)
                throw new ReassureException(ErrorCodes.RepairedModelUnsupported,
                    "feature-space repair (Layer) of an already repaired model is not supported; fit on the original model", o.ModelPath ?? "model bytes");
            split = FeatureSplitter.Split(model, o.Layer);
            var box = o.FeatureBoxLower is { } lo ? InputBox.Uniform(split.Split.FeatureSize, lo, o.FeatureBoxUpper!.Value) : null;
            inFeatures = FeatureRepairer.Repair(split.Split, inputs, engineOptions with { Float32Evaluator = null }, box,
                new OnnxFeatureFloat32Evaluator(split), o.Progress, o.CancellationToken);
            result = inFeatures.Suffix;
        }
        else if (o.SensitiveFeatures is { Count: > 0 } sensitive)
        {
            (result, buggyRows) = Fairness(network, prior is not null, rows, classes, sensitive);
        }
        else
        {
            result = prior is null
                ? Repairer.Repair(network, inputs, engineOptions, o.Progress, o.CancellationToken)
                : Repairer.Repair(current, prior.Specs, inputs, engineOptions, o.Progress, o.CancellationToken);
        }
        if (o.RequireAllFixed) EnsureAllFixed(result, o.LabelColumnName);

        // The repaired graph with a predicted-label output, run by ML.NET's OnnxTransformer.
        var repairedBytes = split is not null
            ? FeatureOnnxExporter.ToBytes(split, result.Network, result.Specs, o.FeatureColumnName, o.ScoreColumnName)
            : RepairedOnnxExporter.ToBytes(result.Network, result.Specs);
        var onnx = ArgMaxAppender.Append(repairedBytes, o.ScoreColumnName, o.PredictedLabelColumnName, labels.OnnxElementType);
        if (gpu is { } g1 && onGpu)
        {
            // The repaired graph on the device (an invalid device id, a CUDA library missing): ML.NET would fall back quietly.
            using var probe = CudaProvider.Open(so => so is null ? new InferenceSession(onnx) : new InferenceSession(onnx, so), g1.Device, g1.Fallback, "GpuDeviceId");
            if (probe.Warning is not null)
            {
                warnings.Add(probe.Warning);
                onGpu = false;
            }
        }
        var inner = BuildInner(onnx, labels, onGpu ? gpu : null).Fit(input);

        // Accuracy after, through the transformer itself.
        int correctAfter = 0;
        var scored = inner.Transform(input);
        var scoreCol = scored.Schema[o.ScoreColumnName];
        using (var cursor = scored.GetRowCursor([scoreCol]))
        {
            var score = cursor.GetGetter<VBuffer<float>>(scoreCol);
            VBuffer<float> buffer = default;
            int r = 0;
            while (cursor.MoveNext())
            {
                score(ref buffer);
                long c = classes[r++];
                if (c >= 0 && c < m && (Prediction.Of(buffer.DenseValues().Select(v => (double)v).ToArray()) == c) != o.Avoid) correctAfter++;
            }
        }

        var report = new RepairFitReport(
            Rows: rows.Count,
            LabelledRows: labelled,
            BuggyRows: buggyRows,
            Fixed: result.FixedCount,
            Unfixed: UnfixedRows(result, buggyRows),
            Patches: result.Patches.Count,
            Gammas: result.Patches.Select(p => p.Gamma).ToList(),
            EngineSeconds: result.Timings.Total.TotalSeconds,
            FitSeconds: wall.Elapsed.TotalSeconds,
            LinearPrograms: result.Timings.LinearPrograms,
            AccuracyBefore: labelled == 0 ? double.NaN : (double)correctBefore / labelled,
            AccuracyAfter: labelled == 0 ? double.NaN : (double)correctAfter / labelled,
            SimplexLinearPrograms: result.Timings.SimplexLinearPrograms)
        {
            ExecutionProvider = onGpu && gpu is { } g2 ? $"CUDA device {g2.Device}" : "CPU",
            Warnings = warnings,
            HtmlSource = () => Reports.RepairReport.FromRepair(result, new Reports.RepairReportOptions
            {
                Model = o.ModelPath ?? "model bytes",
                Evaluation = FitRows(inFeatures, new Specifications.RowSet([.. rows], [.. classes.Select(c => c >= 0 && c < m ? (int)c : -1)], "fit rows")),
                Notes = ["ML.NET RepairEstimator.Fit; accuracy here is in double on the fit rows (the fit report's figures are float32)"],
            }),
        };
        return new RepairTransformer(inner, o.FeatureColumnName, n, onnx, result, report);
    }

    /// <summary>The fit rows the HTML report measures: their features under feature-space repair (figures of the whole model).</summary>
    private static Specifications.RowSet FitRows(FeatureRepairResult? inFeatures, Specifications.RowSet rows) =>
        inFeatures is null ? rows : inFeatures.FeatureRows(rows);

    /// <summary>
    /// Counterfactual-fairness repair of the fit rows (<see cref="FairnessRepairer"/>): the unfair rows are the buggy rows;
    /// one is fixed when it is fair after repair and the repair was proved.
    /// </summary>
    private (RepairResult Result, List<int> Unfair) Fairness(Network network, bool repairedInput, List<double[]> rows, List<long> classes, IReadOnlyList<int> sensitive)
    {
        var o = _options;
        if (repairedInput)
            throw new ReassureException(ErrorCodes.RepairedModelUnsupported,
                "fairness repair of an already repaired model is not supported; fit on the original model", o.ModelPath ?? "model bytes");
        var set = new Specifications.RowSet([.. rows], RowReader.ValidClasses(classes, network.OutputSize, o.LabelColumnName), "fit rows");
        var fr = FairnessRepairer.Repair(network, set, new FairnessOptions { Sensitive = sensitive, ToLabel = o.FairnessToLabel }, o.CancellationToken);
        var unfair = fr.Before.UnfairRows.ToList();
        var stillUnfair = fr.After.UnfairRows.ToHashSet();
        var statuses = unfair.Select((r, i) =>
        {
            bool ok = fr.Proved && !stillUnfair.Contains(r);
            return new InputStatus(i, "row " + r.ToString(CultureInfo.InvariantCulture), ok, null, null,
                ok ? null : ErrorCodes.SoundnessNotReached, ok ? null : "the row is not proved fair after repair: " + string.Join("; ", fr.Errors));
        }).ToList();
        var infos = fr.Repaired.Patches.Select((gp, p) => new PatchInfo(p, gp.Region.Pattern.Hash(), gp.Support.Gamma, gp.Norm, [], gp.Region.ExtraRows.Count,
            fr.Proved, double.NaN)).ToList();
        var seconds = TimeSpan.FromSeconds(fr.Seconds);
        var specs = fr.Specs.Count == fr.Repaired.Patches.Count ? fr.Specs.Cast<LinearSpecification?>().ToList() : null;
        return (new RepairResult(fr.Repaired, statuses, infos, new RepairTimings(TimeSpan.Zero, seconds, TimeSpan.Zero, TimeSpan.Zero, seconds, 0), specs), unfair);
    }

    /// <summary>RSR2001 when some buggy row is not fixed by Core's one answer (<see cref="InputStatus.IsFixed"/>: an RSR3006 row is not fixed).</summary>
    internal static void EnsureAllFixed(RepairResult result, string labelColumn)
    {
        var unfixed = result.Unfixed;
        if (unfixed.Count == 0) return;
        var first = unfixed[0];
        throw new ReassureException(ErrorCodes.GateNotFixed,
            $"{unfixed.Count} of {result.Inputs.Count} buggy rows are not fixed; first: {first.Id}: {first.ErrorCode} {first.Message}", labelColumn);
    }

    /// <summary>The fit report's unfixed rows, as data-view row numbers.</summary>
    internal static List<UnfixedRow> UnfixedRows(RepairResult result, IReadOnlyList<int> buggyRows) =>
        result.Unfixed.Select(s => new UnfixedRow(buggyRows[s.Index], s.ErrorCode, s.Message)).ToList();

    /// <summary>
    /// The CUDA device asked for and whether falling back is allowed: the options' <see cref="RepairEstimatorOptions.GpuDeviceId"/>,
    /// else the context's (ML.NET's <c>MLContext.GpuDeviceId</c> and <c>FallbackToCpu</c>); null for the CPU.
    /// </summary>
    private (int Device, bool Fallback)? GpuRequest()
    {
        var o = _options;
        if (o.GpuDeviceId is { } d) return (d, o.FallbackToCpu);
        if (_ml.GpuDeviceId is { } c) return (c, o.FallbackToCpu || _ml.FallbackToCpu);
        return null;
    }

    private IEstimator<ITransformer> BuildInner(byte[] onnx, LabelMap labels, (int Device, bool Fallback)? gpu)
    {
        var o = _options;
        // The CPU path (gpu null: no request, or one that fell back) is ML.NET's call without device arguments, as before
        // GPU inference existed. A fallen-back request never reaches ML.NET: its own fallback catches OnnxRuntimeException
        // only, and the CPU library has no CUDA entry point at all (EntryPointNotFoundException). When the request came from
        // MLContext.GpuDeviceId, a call without device arguments would take that device again: the ONNX transform is then
        // made in a context without one (same temp folder).
        var scoring = gpu is null && _ml.GpuDeviceId is not null ? new MLContext { TempFilePath = _ml.TempFilePath } : _ml;
        IEstimator<ITransformer> est = gpu is { } g
            ? _ml.Transforms.ApplyOnnxModel([o.ScoreColumnName, o.PredictedLabelColumnName], [o.FeatureColumnName], new MemoryStream(onnx), g.Device, g.Fallback)
            : scoring.Transforms.ApplyOnnxModel([o.ScoreColumnName, o.PredictedLabelColumnName], [o.FeatureColumnName], new MemoryStream(onnx));
        var predicted = labels.Predicted(_ml, o.PredictedLabelColumnName);
        return predicted is null ? est : est.Append(predicted);
    }
}

<#
.SYNOPSIS
    PowerShell-level benchmarks of Start-ParallelTask / Wait-ParallelTask against
    ForEach-Object -Parallel, Start-ThreadJob and a hand-written RunspacePool.

.DESCRIPTION
    Measures, inside one PowerShell process, what the parallel-tasks issue sets
    targets for:

      1. Many trivial items ({ $_ * 2 }, default 10,000) at one throttle (default 5):
         wall time of Start-ParallelTask | Wait-ParallelTask -Receive against
           - ForEach-Object -Parallel                      (target: SyncPool <= 1/10 of it)
           - a RunspacePool script written like the seed template
             (one PowerShell + BeginInvoke per item, results in a synchronized
             hashtable, a polling loop that sleeps 250 ms)  (target: <= 1/3 of it)
         and, with -BatchSize (default 500), against a sequential
         ForEach-Object { $_ * 2 } in this runspace        (target: <= 3x it).
      2. 200 tasks each sleeping 50 ms at throttle 20: wall time against the ideal
         ceil(200 / 20) * 50 ms = 0.5 s (target <= 1.10x), with Start-ThreadJob and
         ForEach-Object -Parallel printed beside it.
      3. On a warm pool (New-ParallelPool): dispatch latency (timestamp just before
         Start-ParallelTask to the first statement of the task; median target <= 1 ms)
         and wake-up (the last task of a group writes its end timestamp; the time
         until Wait-ParallelTask returns; median target <= 5 ms).
      4. 50,000 tasks through one pool in batches (Start, Wait -Receive,
         Remove-ParallelTask): managed (GC.GetTotalMemory($true)) and process
         working set growth after a full GC, target <= 50 MB each.

    Every timing is the best of -Runs runs and every ratio compares numbers from this
    same run. $ProgressPreference is SilentlyContinue for all variants (no progress
    rendering in any of them). Results are printed and written as markdown to
    <ResultsDir>/pool-<yyyyMMdd-HHmmss>.md and <ResultsDir>/pool-latest.md.

.PARAMETER ModulePath
    The staged module folder (out/SyncPool) or its manifest.

.PARAMETER ResultsDir
    Folder for the markdown results (created if missing).

.PARAMETER Items
    Trivial items for section 1 (shrink it for a quick run).

.PARAMETER ThrottleLimit
    Throttle of every variant in sections 1 and 3, and of the pool in section 4.

.PARAMETER BatchSize
    Items per task for the -BatchSize variant.

.PARAMETER TemplatePollMilliseconds
    Sleep between polls of the RunspacePool template (the template's own value is 250).

.PARAMETER SleepTasks
    Tasks in section 2.

.PARAMETER SleepMilliseconds
    How long each task of section 2 sleeps.

.PARAMETER SleepThrottle
    Throttle of every variant in section 2.

.PARAMETER LatencySamples
    Tasks started one at a time for the dispatch latency.

.PARAMETER WakeSamples
    Groups of tasks waited on for the wake-up latency.

.PARAMETER WakeSleepMilliseconds
    How long the tasks of a wake-up group sleep (so Wait-ParallelTask is blocked when they end).

.PARAMETER ChurnTasks
    Tasks run through one pool for the memory measurement.

.PARAMETER ChurnBatch
    Tasks started and removed together in the memory measurement.

.PARAMETER Runs
    Timed runs per measurement (the best is reported).

.EXAMPLE
    pwsh -NoProfile -File tests/bench/pool.bench.ps1 -ModulePath ./out/SyncPool -ResultsDir ./tests/bench/results

    What the build's Bench task runs (the issue's sizes).

.EXAMPLE
    pwsh -NoProfile -File tests/bench/pool.bench.ps1 -ModulePath ./out/SyncPool -ResultsDir /tmp/bench -Items 1000 -ChurnTasks 5000 -Runs 1

    A quick run with smaller sizes.
#>
#Requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][string]$ResultsDir,
    [ValidateRange(1, 10000000)][int]$Items = 10000,
    [ValidateRange(1, 1024)][int]$ThrottleLimit = 5,
    [ValidateRange(1, 10000000)][int]$BatchSize = 500,
    [ValidateRange(1, 10000)][int]$TemplatePollMilliseconds = 250,
    [ValidateRange(1, 1000000)][int]$SleepTasks = 200,
    [ValidateRange(1, 60000)][int]$SleepMilliseconds = 50,
    [ValidateRange(1, 1024)][int]$SleepThrottle = 20,
    [ValidateRange(1, 100000)][int]$LatencySamples = 200,
    [ValidateRange(1, 100000)][int]$WakeSamples = 50,
    [ValidateRange(1, 10000)][int]$WakeSleepMilliseconds = 30,
    [ValidateRange(1, 100000000)][int]$ChurnTasks = 50000,
    [ValidateRange(1, 1000000)][int]$ChurnBatch = 1000,
    [ValidateRange(1, 10)][int]$Runs = 3
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$ResultsDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ResultsDir)
$null = New-Item -ItemType Directory -Force -Path $ResultsDir
Import-Module $ModulePath -Force

$script:Pools = [System.Collections.Generic.List[object]]::new()
$script:Last = $null
$script:PoolSuffix = [guid]::NewGuid().ToString('N').Substring(0, 8)

# ---- helpers ----------------------------------------------------------------------

. (Join-Path $PSScriptRoot 'BenchSupport.ps1')

# Nearest-rank percentile.
function Get-Percentile {
    param([double[]]$Values, [double]$Percent)
    if ($null -eq $Values -or $Values.Count -eq 0) { return [double]::NaN }
    $sorted = @($Values | Sort-Object)
    $index = [int][math]::Ceiling($Percent / 100.0 * $sorted.Count) - 1
    if ($index -lt 0) { $index = 0 }
    if ($index -ge $sorted.Count) { $index = $sorted.Count - 1 }
    [double]$sorted[$index]
}

# Runs $MeasureBody $MeasureRuns times (then $MeasureAfter, untimed) and returns the
# best and median wall time in seconds. The body runs in a child scope of this
# function, so these names are deliberately unusual (the body sees the script's
# variables); a body hands its result back through $script:Last.
function Measure-Best {
    param(
        [Parameter(Mandatory)][scriptblock]$MeasureBody,
        [scriptblock]$MeasureAfter,
        [int]$MeasureRuns = 3
    )
    $measureTimes = [System.Collections.Generic.List[double]]::new()
    for ($measureRun = 0; $measureRun -lt $MeasureRuns; $measureRun++) {
        $script:Last = $null
        [GC]::Collect()
        [GC]::WaitForPendingFinalizers()
        $measureWatch = [System.Diagnostics.Stopwatch]::StartNew()
        $null = & $MeasureBody
        $measureWatch.Stop()
        $measureTimes.Add($measureWatch.Elapsed.TotalSeconds)
        if ($MeasureAfter) { $null = & $MeasureAfter }
    }
    [pscustomobject]@{
        Best   = [double]($measureTimes | Measure-Object -Minimum).Minimum
        Median = Get-Median $measureTimes.ToArray()
        Times  = $measureTimes.ToArray()
    }
}

# Forgets every finished task (tasks of per-call pools included, which lets those pools go).
function Clear-Tasks {
    Get-ParallelTask | Remove-ParallelTask -Force -Confirm:$false
}

function New-BenchPool {
    param([int]$Throttle, [string]$Purpose, [hashtable]$Variable)
    $name = "bench-$Purpose-$($script:PoolSuffix)"
    $pool = if ($Variable) {
        New-ParallelPool -Name $name -ThrottleLimit $Throttle -Variable $Variable
    }
    else {
        New-ParallelPool -Name $name -ThrottleLimit $Throttle
    }
    $script:Pools.Add($pool)
    $pool
}

# Makes sure every worker of a pool exists and has run a task: $Throttle tasks that
# overlap in time, so each worker takes one.
function Initialize-BenchPool {
    param($Pool, [int]$Throttle)
    $tasks = 1..$Throttle | Start-ParallelTask { Start-Sleep -Milliseconds 200; $_ } -Pool $Pool
    $null = $tasks | Wait-ParallelTask -Receive
    $tasks | Remove-ParallelTask
}

# The result of a { $_ * 2 } run over 1..$Count: $Count values summing to $Count * ($Count + 1).
function Test-Doubled {
    param($Result, [int]$Count, [string]$What)
    $n = if ($null -eq $Result) { 0 } else { @($Result).Count }
    [long]$sum = 0
    foreach ($v in $Result) { $sum += [long]$v }
    $expected = [long]$Count * ($Count + 1)
    if ($n -ne $Count -or $sum -ne $expected) {
        Add-Failure "$What returned $n results summing to $sum; expected $Count summing to $expected."
    }
}

function Test-AllCompleted {
    param($Tasks, [int]$Count, [string]$What)
    $all = @($Tasks)
    $bad = @($all | Where-Object { $_.State -ne 'Completed' })
    if ($all.Count -ne $Count -or $bad.Count -gt 0) {
        Add-Failure "$What ended with $($all.Count) tasks, $($bad.Count) not Completed (states: $((@($bad | ForEach-Object { $_.State }) | Sort-Object -Unique) -join ', '))."
    }
}

# ---- the runspace template (seed) ------------------------------------------------------

# The seed's RunspacePool template with its ping replaced by the trivial work: the
# initial session state carries a synchronized hashtable for results, one PowerShell
# instance and BeginInvoke per item, and a loop that collects finished instances and
# sleeps between polls. (The seed's ApartmentState = 'STA' is left out: it only means
# something on Windows, and the other variants do not set it.)
function Invoke-RunspaceTemplate {
    param([object[]]$InputItems, [int]$MaximumThreadCount, [int]$PollMilliseconds)

    $InitialSessionState = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
    $Data = [hashtable]::Synchronized(@{})
    $InitialSessionState.Variables.Add(
        (New-Object -TypeName System.Management.Automation.Runspaces.SessionStateVariableEntry -ArgumentList 'Data', $Data, ''))
    $RunspacePool = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspacePool(1, $MaximumThreadCount, $InitialSessionState, $Host)
    $RunspacePool.Open()

    $ScriptBlock = {
        param($Item)
        $Data[$Item] = $Item * 2
    }

    [decimal]$ID = 0
    $Runspaces = @(foreach ($Item in $InputItems) {
            $PowerShellInstance = [System.Management.Automation.PowerShell]::Create().AddScript($ScriptBlock)
            [void]$PowerShellInstance.AddParameter('Item', $Item)
            $PowerShellInstance.RunspacePool = $RunspacePool
            [pscustomobject]@{
                Handle     = $PowerShellInstance.BeginInvoke()
                PowerShell = $PowerShellInstance
                ID         = ++$ID
            }
        })

    try {
        while ($true) {
            $FinishedRunspaces = @($Runspaces | Where-Object { $null -ne $_.Handle -and $_.Handle.IsCompleted })
            foreach ($Finished in $FinishedRunspaces) {
                [void]$Finished.PowerShell.EndInvoke($Finished.Handle)
                $Finished.PowerShell.Dispose()
                $Finished.PowerShell, $Finished.Handle = $null, $null
            }
            if (@($Runspaces | Where-Object { $null -ne $_.Handle }).Count -eq 0) { break }
            Start-Sleep -Milliseconds $PollMilliseconds
        }
    }
    finally {
        foreach ($Left in $Runspaces) {
            if ($null -ne $Left.PowerShell) { $Left.PowerShell.Dispose() }
        }
        $RunspacePool.Close()
        $RunspacePool.Dispose()
    }
    , $Data
}

# ---- 1. many trivial items ------------------------------------------------------------

function Invoke-TrivialBench {
    $InputItems = 1..$Items
    Write-Report "## 1. $(Format-Number $Items 'N0') trivial items, throttle $ThrottleLimit"
    Write-Report ''
    Write-Report ('Script `{ $_ * 2 }` over 1..' + "$Items; each variant collects all results into a variable (checked: count and sum). Best of $Runs runs; tasks are removed between runs, untimed.")
    Write-Report ''

    # Warm-up: load and compile every path once (untimed).
    $null = 1..2 | Start-ParallelTask { $_ * 2 } -ThrottleLimit 2 | Wait-ParallelTask -Receive
    Clear-Tasks
    $null = 1..2 | ForEach-Object -Parallel { $_ * 2 } -ThrottleLimit 2
    $null = Invoke-RunspaceTemplate -InputItems @(1, 2) -MaximumThreadCount 2 -PollMilliseconds 10
    $null = 1..2 | ForEach-Object { $_ * 2 }

    $syncPool = Measure-Best -MeasureRuns $Runs -MeasureAfter { Clear-Tasks } -MeasureBody {
        $script:Last = $InputItems | Start-ParallelTask { $_ * 2 } -ThrottleLimit $ThrottleLimit | Wait-ParallelTask -Receive
    }
    Test-Doubled $script:Last $Items 'Start-ParallelTask | Wait-ParallelTask -Receive'

    $foreachParallel = Measure-Best -MeasureRuns $Runs -MeasureBody {
        $script:Last = $InputItems | ForEach-Object -Parallel { $_ * 2 } -ThrottleLimit $ThrottleLimit
    }
    Test-Doubled $script:Last $Items 'ForEach-Object -Parallel'

    $template = Measure-Best -MeasureRuns $Runs -MeasureBody {
        $templateData = Invoke-RunspaceTemplate -InputItems $InputItems -MaximumThreadCount $ThrottleLimit -PollMilliseconds $TemplatePollMilliseconds
        $script:Last = @($templateData.Values)
    }
    Test-Doubled $script:Last $Items 'RunspacePool template'

    $batched = Measure-Best -MeasureRuns $Runs -MeasureAfter { Clear-Tasks } -MeasureBody {
        $script:Last = $InputItems | Start-ParallelTask { $_ * 2 } -ThrottleLimit $ThrottleLimit -BatchSize $BatchSize | Wait-ParallelTask -Receive
    }
    Test-Doubled $script:Last $Items 'Start-ParallelTask -BatchSize'

    $batchPool = New-BenchPool -Throttle $ThrottleLimit -Purpose 'batch'
    Initialize-BenchPool -Pool $batchPool -Throttle $ThrottleLimit
    $batchedWarm = Measure-Best -MeasureRuns $Runs -MeasureAfter { Clear-Tasks } -MeasureBody {
        $script:Last = $InputItems | Start-ParallelTask { $_ * 2 } -Pool $batchPool -BatchSize $BatchSize | Wait-ParallelTask -Receive
    }
    Test-Doubled $script:Last $Items 'Start-ParallelTask -Pool -BatchSize'

    $sequential = Measure-Best -MeasureRuns $Runs -MeasureBody {
        $script:Last = $InputItems | ForEach-Object { $_ * 2 }
    }
    Test-Doubled $script:Last $Items 'ForEach-Object (sequential)'

    $script:Last = $null
    $perItem = { param($t) Format-Number ($t.Best / $Items * 1e6) 'N1' }
    Write-Report '| variant | best (s) | median (s) | per item (us, best) |'
    Write-Report '|---|---|---|---|'
    Write-Report "| Start-ParallelTask \| Wait-ParallelTask -Receive (per-call pool) | $(Format-Number $syncPool.Best 'N3') | $(Format-Number $syncPool.Median 'N3') | $(& $perItem $syncPool) |"
    Write-Report "| ForEach-Object -Parallel | $(Format-Number $foreachParallel.Best 'N3') | $(Format-Number $foreachParallel.Median 'N3') | $(& $perItem $foreachParallel) |"
    Write-Report "| RunspacePool template (BeginInvoke per item, poll every $TemplatePollMilliseconds ms) | $(Format-Number $template.Best 'N3') | $(Format-Number $template.Median 'N3') | $(& $perItem $template) |"
    Write-Report "| Start-ParallelTask -BatchSize $BatchSize \| Wait-ParallelTask -Receive (per-call pool) | $(Format-Number $batched.Best 'N3') | $(Format-Number $batched.Median 'N3') | $(& $perItem $batched) |"
    Write-Report "| Start-ParallelTask -Pool (warm) -BatchSize $BatchSize \| Wait-ParallelTask -Receive | $(Format-Number $batchedWarm.Best 'N3') | $(Format-Number $batchedWarm.Median 'N3') | $(& $perItem $batchedWarm) |"
    Write-Report ('| sequential `ForEach-Object { $_ * 2 }` | ' + "$(Format-Number $sequential.Best 'N3') | $(Format-Number $sequential.Median 'N3') | $(& $perItem $sequential) |")
    Write-Report ''

    $vsParallel = $syncPool.Best / $foreachParallel.Best
    $vsTemplate = $syncPool.Best / $template.Best
    $batchVsSequential = $batched.Best / $sequential.Best
    $warmBatchVsSequential = $batchedWarm.Best / $sequential.Best
    Write-Report '| ratio (wall time) | value | target | verdict |'
    Write-Report '|---|---|---|---|'
    Write-Report "| SyncPool / ForEach-Object -Parallel | $(Format-Number $vsParallel 'N3') | <= 0.100 (1/10) | $(Get-Verdict $vsParallel 0.1 'AtMost') |"
    Write-Report "| SyncPool / RunspacePool template | $(Format-Number $vsTemplate 'N3') | <= 0.333 (1/3) | $(Get-Verdict $vsTemplate (1.0 / 3.0) 'AtMost') |"
    Write-Report "| SyncPool -BatchSize $BatchSize / sequential ForEach-Object | $(Format-Number $batchVsSequential 'N2') | <= 3 | $(Get-Verdict $batchVsSequential 3.0 'AtMost') |"
    Write-Report "| SyncPool -Pool (warm) -BatchSize $BatchSize / sequential ForEach-Object | $(Format-Number $warmBatchVsSequential 'N2') | <= 3 | $(Get-Verdict $warmBatchVsSequential 3.0 'AtMost') |"
    Write-Report ''
}

# ---- 2. sleeping tasks: scheduling overhead ---------------------------------------------

function Invoke-SleepBench {
    $ideal = [math]::Ceiling([double]$SleepTasks / $SleepThrottle) * $SleepMilliseconds / 1000.0
    Write-Report "## 2. $SleepTasks tasks sleeping $SleepMilliseconds ms, throttle $SleepThrottle"
    Write-Report ''
    Write-Report "Ideal wall time: ceil($SleepTasks / $SleepThrottle) x $SleepMilliseconds ms = $(Format-Number $ideal 'N3') s. Best of $Runs runs. The per-call variants create their runspaces inside the timing; the warm pool was created and used once before."
    Write-Report ''

    $rows = [System.Collections.Generic.List[object]]::new()

    $perCall = Measure-Best -MeasureRuns $Runs -MeasureAfter { Clear-Tasks } -MeasureBody {
        $script:Last = 1..$SleepTasks | Start-ParallelTask { Start-Sleep -Milliseconds $using:SleepMilliseconds } -ThrottleLimit $SleepThrottle | Wait-ParallelTask
    }
    Test-AllCompleted $script:Last $SleepTasks 'Sleeping tasks (per-call pool)'
    $rows.Add([pscustomobject]@{ Name = 'Start-ParallelTask \| Wait-ParallelTask (per-call pool)'; Time = $perCall; Target = $true })

    $sleepPool = New-BenchPool -Throttle $SleepThrottle -Purpose 'sleep'
    Initialize-BenchPool -Pool $sleepPool -Throttle $SleepThrottle
    $warm = Measure-Best -MeasureRuns $Runs -MeasureAfter { Clear-Tasks } -MeasureBody {
        $script:Last = 1..$SleepTasks | Start-ParallelTask { Start-Sleep -Milliseconds $using:SleepMilliseconds } -Pool $sleepPool | Wait-ParallelTask
    }
    Test-AllCompleted $script:Last $SleepTasks 'Sleeping tasks (warm pool)'
    $rows.Add([pscustomobject]@{ Name = 'Start-ParallelTask -Pool (warm) \| Wait-ParallelTask'; Time = $warm; Target = $true })
    $script:Last = $null

    $threadJob = Get-Command -Name Start-ThreadJob -ErrorAction SilentlyContinue
    if ($threadJob) {
        $warmJob = Start-ThreadJob -ScriptBlock { 1 }
        $null = $warmJob | Wait-Job
        $warmJob | Remove-Job -Force
        $jobs = Measure-Best -MeasureRuns $Runs -MeasureAfter { $script:Last | Remove-Job -Force } -MeasureBody {
            $started = foreach ($n in 1..$SleepTasks) {
                Start-ThreadJob -ScriptBlock { param($ms) Start-Sleep -Milliseconds $ms } -ArgumentList $SleepMilliseconds -ThrottleLimit $SleepThrottle
            }
            $null = $started | Wait-Job
            $script:Last = $started
        }
        $rows.Add([pscustomobject]@{ Name = "Start-ThreadJob -ThrottleLimit $SleepThrottle \| Wait-Job ($($threadJob.Source))"; Time = $jobs; Target = $false })
        $script:Last = $null
    }
    else {
        Write-Report 'Start-ThreadJob is not available in this PowerShell (neither ThreadJob nor Microsoft.PowerShell.ThreadJob found): that comparison is skipped.'
        Write-Report ''
    }

    $null = 1..2 | ForEach-Object -Parallel { Start-Sleep -Milliseconds 1 } -ThrottleLimit 2
    $foreachParallel = Measure-Best -MeasureRuns $Runs -MeasureBody {
        $script:Last = 1..$SleepTasks | ForEach-Object -Parallel { Start-Sleep -Milliseconds $using:SleepMilliseconds } -ThrottleLimit $SleepThrottle
    }
    $rows.Add([pscustomobject]@{ Name = "ForEach-Object -Parallel -ThrottleLimit $SleepThrottle"; Time = $foreachParallel; Target = $false })

    Write-Report '| variant | best (s) | median (s) | best / ideal | target | verdict |'
    Write-Report '|---|---|---|---|---|---|'
    foreach ($row in $rows) {
        $ratio = $row.Time.Best / $ideal
        $target = if ($row.Target) { '<= 1.10' } else { '(comparison)' }
        $verdict = if ($row.Target) { Get-Verdict $ratio 1.10 'AtMost' } else { 'info' }
        Write-Report "| $($row.Name) | $(Format-Number $row.Time.Best 'N3') | $(Format-Number $row.Time.Median 'N3') | $(Format-Number $ratio 'N3') | $target | $verdict |"
    }
    Write-Report ''
}

# ---- 3. dispatch and wake-up latency on a warm pool --------------------------------------

function Invoke-LatencyBench {
    Write-Report "## 3. dispatch and wake-up latency, warm pool of $ThrottleLimit"
    Write-Report ''
    Write-Report ("Dispatch: $LatencySamples tasks started one at a time on an idle warm pool (New-ParallelPool); each task's first statement stores " + '`[Diagnostics.Stopwatch]::GetTimestamp()`' + ' in a SyncTable given to the pool with -Variable; latency = that minus the timestamp taken just before Start-ParallelTask (so it includes the cmdlet''s own work).')
    Write-Report ("Wake-up: $WakeSamples groups of $ThrottleLimit tasks sleeping $WakeSleepMilliseconds ms plus 1..$ThrottleLimit ms; each task's last statement stores its end timestamp; latency = the moment " + '`Wait-ParallelTask`' + ' returns minus the latest end timestamp of the group (so it includes the task''s pipeline teardown and runspace reset).')
    Write-Report ''

    $stamps = New-SyncTable
    $pool = New-BenchPool -Throttle $ThrottleLimit -Purpose 'latency' -Variable @{ BenchStamps = $stamps }
    Initialize-BenchPool -Pool $pool -Throttle $ThrottleLimit
    $frequency = [double][System.Diagnostics.Stopwatch]::Frequency

    # Warm the exact commands measured below.
    for ($i = 0; $i -lt 5; $i++) {
        $task = Start-ParallelTask -Pool $pool -InputObject "w$i" -ScriptBlock { $BenchStamps["d$_"] = [System.Diagnostics.Stopwatch]::GetTimestamp() }
        $null = $task | Wait-ParallelTask
        $task | Remove-ParallelTask
    }

    $dispatch = [System.Collections.Generic.List[double]]::new()
    for ($i = 0; $i -lt $LatencySamples; $i++) {
        $before = [System.Diagnostics.Stopwatch]::GetTimestamp()
        $task = Start-ParallelTask -Pool $pool -InputObject $i -ScriptBlock { $BenchStamps["d$_"] = [System.Diagnostics.Stopwatch]::GetTimestamp() }
        $null = $task | Wait-ParallelTask
        $began = $stamps["d$i"]
        if ($null -eq $began) {
            throw "Dispatch sample $i recorded no timestamp (task state $($task.State); errors: $(($task.Errors | Out-String).Trim()))."
        }
        $dispatch.Add(([long]$began - $before) * 1000.0 / $frequency)
        $task | Remove-ParallelTask
    }

    $wake = [System.Collections.Generic.List[double]]::new()
    for ($i = 0; $i -lt $WakeSamples; $i++) {
        $group = $i
        $tasks = 1..$ThrottleLimit | Start-ParallelTask -Pool $pool -ScriptBlock {
            $g = $using:group
            Start-Sleep -Milliseconds ($using:WakeSleepMilliseconds + $_)
            $BenchStamps["e$g-$_"] = [System.Diagnostics.Stopwatch]::GetTimestamp()
        }
        $null = $tasks | Wait-ParallelTask
        $returned = [System.Diagnostics.Stopwatch]::GetTimestamp()
        [long]$lastEnd = 0
        for ($k = 1; $k -le $ThrottleLimit; $k++) {
            $end = $stamps["e$group-$k"]
            if ($null -eq $end) {
                throw "Wake-up sample $i, task $k recorded no timestamp (states: $((@($tasks | ForEach-Object { $_.State })) -join ', '))."
            }
            if ([long]$end -gt $lastEnd) { $lastEnd = [long]$end }
        }
        $wake.Add(($returned - $lastEnd) * 1000.0 / $frequency)
        $tasks | Remove-ParallelTask
    }
    $stamps.Dispose()

    $dispatchMedian = Get-Median $dispatch.ToArray()
    $wakeMedian = Get-Median $wake.ToArray()
    Write-Report '| latency (ms) | min | median | p90 | max | target (median) | verdict |'
    Write-Report '|---|---|---|---|---|---|---|'
    Write-Report "| dispatch: before Start-ParallelTask -> task's first statement | $(Format-Number (Get-Percentile $dispatch.ToArray() 0) 'N3') | $(Format-Number $dispatchMedian 'N3') | $(Format-Number (Get-Percentile $dispatch.ToArray() 90) 'N3') | $(Format-Number (Get-Percentile $dispatch.ToArray() 100) 'N3') | <= 1 | $(Get-Verdict $dispatchMedian 1.0 'AtMost') |"
    Write-Report "| wake-up: last task's last statement -> Wait-ParallelTask returned | $(Format-Number (Get-Percentile $wake.ToArray() 0) 'N3') | $(Format-Number $wakeMedian 'N3') | $(Format-Number (Get-Percentile $wake.ToArray() 90) 'N3') | $(Format-Number (Get-Percentile $wake.ToArray() 100) 'N3') | <= 5 | $(Get-Verdict $wakeMedian 5.0 'AtMost') |"
    Write-Report ''
}

# ---- 4. memory over many tasks through one pool -------------------------------------------

function Invoke-ChurnBatch {
    param($Pool, [int]$From, [int]$Count)
    $tasks = $From..($From + $Count - 1) | Start-ParallelTask { $_ * 2 } -Pool $Pool
    $out = $tasks | Wait-ParallelTask -Receive
    if (@($out).Count -ne $Count) { Add-Failure "A churn batch of $Count tasks returned $(@($out).Count) results." }
    $tasks | Remove-ParallelTask
}

function Invoke-ChurnBench {
    Write-Report "## 4. memory after $(Format-Number $ChurnTasks 'N0') tasks through one pool"
    Write-Report ''
    Write-Report ('One pool (New-ParallelPool -ThrottleLimit ' + "$ThrottleLimit); batches of $ChurnBatch tasks " + '`{ $_ * 2 }`' + ': Start-ParallelTask -Pool, Wait-ParallelTask -Receive, Remove-ParallelTask. Baseline after one warm batch and a full GC; growth measured after a full GC at the end.')
    Write-Report ''

    $pool = New-BenchPool -Throttle $ThrottleLimit -Purpose 'churn'
    Initialize-BenchPool -Pool $pool -Throttle $ThrottleLimit
    Invoke-ChurnBatch -Pool $pool -From 1 -Count ([math]::Min($ChurnBatch, $ChurnTasks))

    Invoke-Settle
    $process = [System.Diagnostics.Process]::GetCurrentProcess()
    $process.Refresh()
    $workingSet0 = $process.WorkingSet64
    $private0 = $process.PrivateMemorySize64
    $managed0 = [GC]::GetTotalMemory($true)

    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    for ($done = 0; $done -lt $ChurnTasks; $done += $ChurnBatch) {
        $count = [math]::Min($ChurnBatch, $ChurnTasks - $done)
        Invoke-ChurnBatch -Pool $pool -From ($done + 1) -Count $count
    }
    $watch.Stop()

    Invoke-Settle
    $managed1 = [GC]::GetTotalMemory($true)
    $process.Refresh()
    $workingSet1 = $process.WorkingSet64
    $private1 = $process.PrivateMemorySize64
    $left = @(Get-ParallelTask -Pool $pool).Count

    $mb = 1000.0 * 1000.0
    $managedGrowth = ($managed1 - $managed0) / $mb
    $workingSetGrowth = ($workingSet1 - $workingSet0) / $mb
    $privateGrowth = ($private1 - $private0) / $mb
    Write-Report "Ran in $(Format-Number $watch.Elapsed.TotalSeconds 'N1') s ($(Format-Number ($ChurnTasks / $watch.Elapsed.TotalSeconds) 'N0') tasks/s); $left task(s) still registered in the pool afterwards."
    Write-Report ''
    Write-Report '| growth after GC (MB) | before | after | growth | target | verdict |'
    Write-Report '|---|---|---|---|---|---|'
    Write-Report "| managed, GC.GetTotalMemory(`$true) | $(Format-Number ($managed0 / $mb) 'N1') | $(Format-Number ($managed1 / $mb) 'N1') | $(Format-Number $managedGrowth 'N1') | <= 50 | $(Get-Verdict $managedGrowth 50 'AtMost') |"
    Write-Report "| process working set | $(Format-Number ($workingSet0 / $mb) 'N1') | $(Format-Number ($workingSet1 / $mb) 'N1') | $(Format-Number $workingSetGrowth 'N1') | <= 50 | $(Get-Verdict $workingSetGrowth 50 'AtMost') |"
    Write-Report "| process private bytes | $(Format-Number ($private0 / $mb) 'N1') | $(Format-Number ($private1 / $mb) 'N1') | $(Format-Number $privateGrowth 'N1') | (info) | info |"
    Write-Report ''
    if ($left -ne 0) { Add-Failure "$left task(s) were still registered in the churn pool after Remove-ParallelTask." }
}

# ---- run ----------------------------------------------------------------------------------

Write-Report '# Start-ParallelTask vs ForEach-Object -Parallel, Start-ThreadJob and a RunspacePool (PowerShell level)'
Write-Report ''
Write-EnvironmentReport
Write-Report "- sizes: Items=$Items, ThrottleLimit=$ThrottleLimit, BatchSize=$BatchSize, SleepTasks=$SleepTasks, SleepMilliseconds=$SleepMilliseconds, SleepThrottle=$SleepThrottle, LatencySamples=$LatencySamples, WakeSamples=$WakeSamples, ChurnTasks=$ChurnTasks, ChurnBatch=$ChurnBatch, Runs=$Runs"
Write-Report '- Every ratio compares measurements taken in this same run; absolute numbers depend on the machine. $ProgressPreference = SilentlyContinue throughout.'
Write-Report ''

$scriptWatch = [System.Diagnostics.Stopwatch]::StartNew()
try {
    Invoke-TrivialBench
    Invoke-SleepBench
    Invoke-LatencyBench
    Invoke-ChurnBench
}
catch {
    Write-Host $_.ScriptStackTrace
    Add-Failure "The benchmark stopped: $($_.Exception.Message)"
}
finally {
    $scriptWatch.Stop()
    try {
        Clear-Tasks
        foreach ($pool in $script:Pools) { Remove-ParallelPool -Pool $pool -Confirm:$false }
    }
    catch {
        Write-Host "cleanup: $($_.Exception.Message)"
    }
    Write-Report "Total time: $(Format-Number $scriptWatch.Elapsed.TotalSeconds 'N1') s."
    if ($script:Failures.Count -gt 0) {
        Write-Report ''
        Write-Report "**$($script:Failures.Count) failure(s)**: $($script:Failures -join ' ')"
    }
    Save-Report -Name 'pool'
}

if ($script:Failures.Count -gt 0) { exit 1 }
exit 0

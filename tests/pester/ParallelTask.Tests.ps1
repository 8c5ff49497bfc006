# Pester 5 suite for the parallel task cmdlets: Start/Wait/Receive/Get/Stop/Remove-ParallelTask
# and New/Get/Remove-ParallelPool. Each Describe cleans up its tasks and pools.

BeforeAll {
    . $PSScriptRoot/TestSupport.ps1
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force

    function Remove-AllParallel {
        Get-ParallelTask | Remove-ParallelTask -Force -Confirm:$false
        Get-ParallelPool | Remove-ParallelPool -Confirm:$false
    }
}

Describe 'Input reaches the script' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'sets $_ and $PSItem to each item' {
        $r = 1..4 | Start-ParallelTask { $_ * 2 } | Wait-ParallelTask -Receive
        ($r | Sort-Object) | Should -Be @(2, 4, 6, 8)
        $r = 'a', 'b' | Start-ParallelTask { $PSItem.ToUpper() } | Wait-ParallelTask -Receive
        ($r | Sort-Object) | Should -Be @('A', 'B')
    }

    It 'binds the item to the first parameter and -ArgumentList to the rest' {
        $r = 1..3 | Start-ParallelTask { param($x) $x + 10 } | Wait-ParallelTask -Receive
        ($r | Sort-Object) | Should -Be @(11, 12, 13)
        $r = 1, 2 | Start-ParallelTask { param($item, $a, $b) "$item-$a-$b" } -ArgumentList 'x', 'y' | Wait-ParallelTask -Receive
        ($r | Sort-Object) | Should -Be @('1-x-y', '2-x-y')
    }

    It 'passes -ArgumentList alone when there is no input' {
        Start-ParallelTask { param($a, $b) $a * $b } -ArgumentList 6, 7 | Wait-ParallelTask -Receive | Should -Be 42
    }

    It 'feeds process blocks and ValueFromPipeline parameters' {
        $r = 1..3 | Start-ParallelTask { begin { $seen = 0 } process { $seen++; $_ } end { "seen $seen" } } | Wait-ParallelTask -Receive
        @($r | Where-Object { $_ -is [int] } | Sort-Object) | Should -Be @(1, 2, 3)
        @($r | Where-Object { $_ -eq 'seen 1' }).Count | Should -Be 3
        $r = 5, 6 | Start-ParallelTask { param([Parameter(ValueFromPipeline)] $v) process { $v * 100 } } | Wait-ParallelTask -Receive
        ($r | Sort-Object) | Should -Be @(500, 600)
    }

    It 'runs the script once when there is no input, and not at all for an empty pipeline' {
        $tasks = @(Start-ParallelTask { 'once' })
        $tasks.Count | Should -Be 1
        $tasks[0].HasInput | Should -BeFalse
        $tasks | Wait-ParallelTask -Receive | Should -Be 'once'
        @(@() | Start-ParallelTask { 'never' }).Count | Should -Be 0
    }

    It 'treats an array given to -InputObject as one item' {
        Start-ParallelTask { $_.Count } -InputObject @(1, 2, 3) | Wait-ParallelTask -Receive | Should -Be 3
    }

    It 'runs each task in the caller''s current directory' {
        $dir = (Get-Item $TestDrive).FullName
        Push-Location $dir
        try {
            Start-ParallelTask { (Get-Location).ProviderPath } | Wait-ParallelTask -Receive | Should -Be $dir
        }
        finally { Pop-Location }
    }

    It 'batches items: begin/end once per batch, process once per item' {
        $tasks = 1..10 | Start-ParallelTask { begin { $c = 0 } process { $c++; $_ * 2 } end { "count=$c" } } -BatchSize 4
        $tasks.Count | Should -Be 3
        $tasks[0].IsBatch | Should -BeTrue
        $tasks[0].Input.Count | Should -Be 4
        $r = $tasks | Wait-ParallelTask -Receive
        @($r | Where-Object { $_ -is [int] } | Sort-Object) | Should -Be (1..10 | ForEach-Object { $_ * 2 })
        @($r | Where-Object { $_ -is [string] } | Sort-Object) | Should -Be @('count=2', 'count=4', 'count=4')
    }

    It 'runs a body-only script once per item of a batch' {
        $r = 1..5 | Start-ParallelTask { $_ + 100 } -BatchSize 2 | Wait-ParallelTask -Receive
        ($r | Sort-Object) | Should -Be @(101, 102, 103, 104, 105)
    }
}

Describe '$using:, -Variable, -ImportFunction, -ImportModule' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'passes $using: values, member and index expressions, in nested scriptblocks too' {
        $factor = 3
        $h = @{ Name = 'box'; Items = @(10, 20, 30) }
        $r = 1..3 | Start-ParallelTask { $_ * $using:factor } | Wait-ParallelTask -Receive
        ($r | Sort-Object) | Should -Be @(3, 6, 9)
        Start-ParallelTask { "$($using:h.Name):$($using:h.Items[1])" } | Wait-ParallelTask -Receive | Should -Be 'box:20'
        $r = Start-ParallelTask { 1..2 | ForEach-Object { $_ * $using:factor } } | Wait-ParallelTask -Receive
        $r | Should -Be @(3, 6)
        $Mixed = 'case'
        Start-ParallelTask { $USING:mixed } | Wait-ParallelTask -Receive | Should -Be 'case'
    }

    It 'refuses a scriptblock in $using: with SyncPool.UsingScriptBlock' {
        $sb = { 'inner' }
        { Start-ParallelTask { & $using:sb } } | Should -Throw -ErrorId 'SyncPool.UsingScriptBlock,*'
    }

    It 'reports an undefined $using: variable with SyncPool.UsingVariableUndefined' {
        { Start-ParallelTask { $using:syncPoolNoSuchVariable42 } } | Should -Throw -ErrorId 'SyncPool.UsingVariableUndefined,*'
    }

    It 'passes a $using: variable that holds $null as $null, as ForEach-Object -Parallel does' {
        # PSVariable.GetValue answers its default for a $null value too, which read as undefined.
        function Test-NullUsing($Cred) { Start-ParallelTask { $null -eq $using:Cred; $null -eq $using:Cred.Name } | Wait-ParallelTask -Receive -Timeout 30 }
        Test-NullUsing | Should -Be @($true, $true)
        $unset = $null
        Start-ParallelTask { "[$using:unset]" } | Wait-ParallelTask -Receive -Timeout 30 | Should -Be '[]'
    }

    It 'leaves $using: inside a nested Start-ParallelTask to that call' {
        $outer = 5
        $r = Start-ParallelTask {
            $inner = $using:outer * 2
            Start-ParallelTask { $using:inner + 1 } | Wait-ParallelTask -Receive
        } | Wait-ParallelTask -Timeout 60 -Receive
        $r | Should -Be 11
    }

    It 'starts tasks with -Variable values' {
        Start-ParallelTask { "$greeting, $name" } -Variable @{ greeting = 'hello'; '$name' = 'world' } |
            Wait-ParallelTask -Receive | Should -Be 'hello, world'
    }

    It 'defines functions given to -ImportFunction' {
        function Get-SyncPoolTestDouble([int]$n) { $n * 2 }
        $r = 1..3 | Start-ParallelTask { Get-SyncPoolTestDouble $_ } -ImportFunction 'Get-SyncPoolTestDouble' | Wait-ParallelTask -Receive
        ($r | Sort-Object) | Should -Be @(2, 4, 6)
        { Start-ParallelTask { 1 } -ImportFunction 'No-SuchFunction42' } | Should -Throw -ErrorId 'SyncPool.FunctionNotFound,*'
    }

    It 'imports modules given to -ImportModule' {
        $module = Join-Path $TestDrive 'SyncPoolTestModule.psm1'
        Set-Content -Path $module -Value 'function Get-SyncPoolTestAnswer { 42 }'
        Start-ParallelTask { Get-SyncPoolTestAnswer } -ImportModule $module | Wait-ParallelTask -Receive | Should -Be 42
    }

    It 'makes SyncPool''s own cmdlets available inside tasks' {
        Start-ParallelTask { (Get-Command Start-ParallelTask).Name } | Wait-ParallelTask -Receive | Should -Be 'Start-ParallelTask'
    }
}

Describe 'Shared state' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'shares a SyncTable by reference and keeps exact totals across 8 tasks' {
        $t = New-SyncTable
        $tasks = 1..8 | Start-ParallelTask { $table = $using:t; foreach ($i in 1..500) { [void]$table.Increment('n') } } -ThrottleLimit 4
        $tasks | Wait-ParallelTask -Timeout 120 | Out-Null
        $tasks.State | Should -Not -Contain 'Failed'
        $t['n'] | Should -Be 4000
    }

    It 'shares a SyncTable given with -Variable' {
        $t = New-SyncTable
        1..6 | Start-ParallelTask { [void]$shared.Increment('hits'); $shared[$_] = $_ * $_ } -Variable @{ shared = $t } |
            Wait-ParallelTask | Out-Null
        $t['hits'] | Should -Be 6
        $t[3] | Should -Be 9
    }

    It 'lets a caller steer a running task through a table (live pattern)' {
        $t = New-SyncTable
        $t.Flag = $true
        $task = Start-ParallelTask { $s = $using:t; $n = 0; while ($s.Flag) { $n++; Start-Sleep -Milliseconds 20 }; $n }
        Start-Sleep -Milliseconds 400
        $task.State | Should -Be 'Running'
        $t.Flag = $false
        $n = $task | Wait-ParallelTask -Timeout 10 -Receive
        $n | Should -BeGreaterThan 0
        $task.State | Should -Be 'Completed'
    }

    It 'runs the runspace template as a one-liner, results keyed by input' {
        # The seed template: ping computers on a pool of up to 32 runspaces, wait at
        # most 300 s, collect results keyed by computer name.
        $ComputerName = 'host1', 'host2', 'host3'
        $Results = $ComputerName | Start-ParallelTask {
            param([string] $ComputerName)
            [pscustomobject]@{ Ping = $ComputerName -ne 'host2'; TimeFinished = [DateTime]::Now }
        } -ThrottleLimit 32 | Wait-ParallelTask -Timeout 300 -Receive -AsHashtable
        $Results | Should -BeOfType [hashtable]
        $Results.Keys.Count | Should -Be 3
        $Results['host1'].Ping | Should -BeTrue
        $Results['HOST2'].Ping | Should -BeFalse
    }

    It 'fills a shared table the way the template''s synchronized hashtable does' {
        $Data = New-SyncTable
        'host1', 'host2' | Start-ParallelTask { param($ComputerName) $Data[$ComputerName] = [pscustomobject]@{ Ping = $true } } -Variable @{ Data = $Data } |
            Wait-ParallelTask | Out-Null
        $Data.Count | Should -Be 2
        $Data['host2'].Ping | Should -BeTrue
    }
}

Describe 'Throttling and pools' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'limits how many tasks of one call run at once' {
        $r = 1..6 | Start-ParallelTask {
            $start = [DateTime]::UtcNow; Start-Sleep -Milliseconds 300
            [pscustomobject]@{ Start = $start; End = [DateTime]::UtcNow }
        } -ThrottleLimit 2 | Wait-ParallelTask -Timeout 60 -Receive
        Get-PeakOverlap $r | Should -BeLessOrEqual 2
    }

    It 'gives each call its own throttle (no shared global queue)' {
        $slow = 1..3 | Start-ParallelTask { Start-Sleep -Milliseconds 1500 } -ThrottleLimit 1
        $fast = 1..3 | Start-ParallelTask { 'quick' } -ThrottleLimit 3
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $fast | Wait-ParallelTask -Timeout 30 | Out-Null
        # With one shared queue the quick tasks would wait 4.5 s behind the slow ones.
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 3.5
        @($slow | Where-Object State -In 'Queued', 'Running').Count | Should -BeGreaterThan 0
        $slow[0].Pool | Should -Not -Be $fast[0].Pool
        $slow[0].Pool.ThrottleLimit | Should -Be 1
        $slow | Wait-ParallelTask -Timeout 30 | Out-Null
    }

    It 'reuses a named pool across calls' {
        $pool = New-ParallelPool -Name 'SyncPoolTestPool' -ThrottleLimit 2
        (Get-ParallelPool -Name 'SyncPoolTestPool').Id | Should -Be $pool.Id
        $a = 1..3 | Start-ParallelTask { [System.Management.Automation.Runspaces.Runspace]::DefaultRunspace.Name } -Pool 'SyncPoolTestPool'
        $b = 1..3 | Start-ParallelTask { [System.Management.Automation.Runspaces.Runspace]::DefaultRunspace.Name } -Pool $pool
        $names = $a + $b | Wait-ParallelTask -Timeout 60 -Receive
        @($names | Sort-Object -Unique).Count | Should -BeLessOrEqual 2
        { New-ParallelPool -Name 'SyncPoolTestPool' } | Should -Throw -ErrorId 'SyncPool.PoolExists,*'
        { Start-ParallelTask { 1 } -Pool $pool -ThrottleLimit 3 } | Should -Throw -ErrorId 'SyncPool.InvalidArgument,*'
        $pool | Remove-ParallelPool -Confirm:$false
        Get-ParallelPool -Name 'SyncPoolTestPool' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'starts pool variables and functions in every task' {
        function Get-SyncPoolPoolFunction { 'from pool' }
        $pool = New-ParallelPool -ThrottleLimit 2 -Variable @{ poolVar = 7 } -ImportFunction 'Get-SyncPoolPoolFunction'
        $r = 1..4 | Start-ParallelTask { "$(Get-SyncPoolPoolFunction) $poolVar $_" } -Pool $pool | Wait-ParallelTask -Receive
        ($r | Sort-Object) | Should -Be @('from pool 7 1', 'from pool 7 2', 'from pool 7 3', 'from pool 7 4')
        $pool | Remove-ParallelPool -Confirm:$false
    }

    It 'resets a runspace between tasks' {
        $pool = New-ParallelPool -ThrottleLimit 1
        Start-ParallelTask { $global:leak = 'left over' } -Pool $pool | Wait-ParallelTask | Out-Null
        Start-ParallelTask { $null -eq $global:leak } -Pool $pool | Wait-ParallelTask -Receive | Should -BeTrue
        $pool | Remove-ParallelPool -Confirm:$false
    }

    It 'keeps no workers for a call''s own pool once its tasks are done, and forgets it once they are received' {
        $tasks = 1..3 | Start-ParallelTask { $_ }
        $pool = $tasks[0].Pool
        $pool.IsPerCall | Should -BeTrue
        $tasks | Wait-ParallelTask | Out-Null
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ($pool.Counts.Workers -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $pool.Counts.Workers | Should -Be 0
        { Start-ParallelTask { 1 } -Pool $pool } | Should -Throw -ErrorId 'SyncPool.InvalidArgument,*'
        (Get-ParallelPool).Id | Should -Contain $pool.Id
        ($tasks | Receive-ParallelTask | Sort-Object) | Should -Be @(1, 2, 3)
        $pool.IsRemoved | Should -BeTrue
        (Get-ParallelPool).Id | Should -Not -Contain $pool.Id
        { $tasks | Remove-ParallelTask -ErrorAction Stop } | Should -Not -Throw
    }

    It 'has stack room for deep recursion' {
        $r = Start-ParallelTask {
            function Step([int] $n) { if ($n -gt 0) { Step ($n - 1) } else { 'bottom' } }
            Step 1000
        } | Wait-ParallelTask -Timeout 60 -Receive
        $r | Should -Be 'bottom'
    }
}

Describe 'Timeouts, failures and stopping' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'times out a task stuck in a .NET call and returns within seconds' {
        $task = Start-ParallelTask { [Threading.Thread]::Sleep(600000) } -TimeoutSeconds 1
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $task | Wait-ParallelTask | Out-Null
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
        $task.State | Should -Be 'TimedOut'
        $task.StatusMessage | Should -Match 'timed out'
    }

    It 'stops an interruptible script at its timeout' {
        $task = Start-ParallelTask { Start-Sleep -Seconds 60 } -TimeoutSeconds 0.5
        $task | Wait-ParallelTask -Timeout 10 | Out-Null
        $task.State | Should -Be 'TimedOut'
    }

    It 'counts a task''s timeout from when it starts, not while it is queued' {
        $tasks = @(
            Start-ParallelTask { Start-Sleep -Milliseconds 1500 } -Pool (New-ParallelPool -ThrottleLimit 1 -Name 'SyncPoolTimeoutPool')
            Start-ParallelTask { Start-Sleep -Milliseconds 100; 'made it' } -Pool 'SyncPoolTimeoutPool' -TimeoutSeconds 1
        )
        $tasks | Wait-ParallelTask -Timeout 30 | Out-Null
        $tasks[1].State | Should -Be 'Completed'
        $tasks[1] | Receive-ParallelTask | Should -Be 'made it'
        Remove-ParallelPool -Name 'SyncPoolTimeoutPool' -Confirm:$false
    }

    It 'stops waiting at -Timeout: the rest end TimedOut and SyncPool.WaitTimeout is written' {
        $tasks = 1..2 | Start-ParallelTask { if ($_ -eq 2) { Start-Sleep -Seconds 60 }; $_ }
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $tasks | Wait-ParallelTask -Timeout 3 -ErrorVariable waitErrors -ErrorAction SilentlyContinue | Out-Null
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 7
        $waitErrors[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.WaitTimeout*'
        $tasks[0].State | Should -Be 'Completed'
        $tasks[1].State | Should -Be 'TimedOut'
        $tasks[1].StatusMessage | Should -Match 'Wait-ParallelTask'
    }

    It 'returns the finished tasks with -Any, and nothing (stopping nothing) when -Any times out' {
        $tasks = @(Start-ParallelTask { 'fast' }) + @(Start-ParallelTask { Start-Sleep -Seconds 60 })
        $first = @($tasks | Wait-ParallelTask -Any -Timeout 30)
        $first.Count | Should -Be 1
        $first[0].Id | Should -Be $tasks[0].Id
        @($tasks[1] | Wait-ParallelTask -Any -Timeout 0.5).Count | Should -Be 0
        $tasks[1].State | Should -Be 'Running'
        $tasks[1] | Stop-ParallelTask
    }

    It 'reports the lines of the user''s own script in errors and stack traces, as Start-ThreadJob does' {
        # The body of a script without named blocks is run inside a process block; the
        # block's opening line pushed every line down by one.
        $body = [scriptblock]::Create("'first'`n`$null = 1`nGet-Item -LiteralPath '/no/such/path/42'")
        $task = 'x' | Start-ParallelTask $body | Wait-ParallelTask -Timeout 30
        $ours = $task.Errors[0].InvocationInfo.ScriptLineNumber
        $job = Start-ThreadJob $body -InputObject 'x'
        $null = $job | Wait-Job -Timeout 30
        $null = $job | Receive-Job -ErrorAction SilentlyContinue -ErrorVariable got
        $theirs = $got[0].InvocationInfo.ScriptLineNumber
        $job | Remove-Job -Force
        $ours | Should -Be 3
        $ours | Should -Be $theirs
    }

    It 'shows no line of SyncPool''s own for a Write-Error in a task, as Start-ThreadJob and ForEach-Object -Parallel do' {
        # Write-Error marks its record with the invocation of the script that called it:
        # a task's script is called by SyncPool's batch driver, whose line is not the user's.
        $plain = 1..2 | Start-ParallelTask { Write-Error "plain $_"; Get-Item -LiteralPath "/no/such/path/$_" }
        $withArguments = Start-ParallelTask { param($a) Write-Error "argument $a" } -ArgumentList 7
        $got = $null
        $plain + $withArguments | Wait-ParallelTask -Receive -ErrorAction SilentlyContinue -ErrorVariable got
        $got.Count | Should -Be 5
        foreach ($record in $got) {
            $shown = ($record | Out-String) + $record.InvocationInfo.Line + $record.InvocationInfo.PositionMessage
            $shown | Should -Not -Match '__sp' -Because "the error '$($record.Exception.Message)' must not show the driver's line"
        }
        $writeErrors = @($got | Where-Object { $_.Exception.Message -like 'plain *' -or $_.Exception.Message -like 'argument *' })
        $writeErrors.Count | Should -Be 3
        $writeErrors.InvocationInfo.ScriptLineNumber | Should -Be @(0, 0, 0) -Because 'Start-ThreadJob shows such an error at no line'
        # A cmdlet's own error still points at the user's line.
        @($got | Where-Object { $_.FullyQualifiedErrorId -like 'PathNotFound*' })[0].InvocationInfo.Line | Should -Match 'Get-Item'
        $job = Start-ThreadJob { Write-Error 'thread job' }
        $null = $job | Wait-Job -Timeout 30
        $null = $job | Receive-Job -ErrorAction SilentlyContinue -ErrorVariable theirs
        $job | Remove-Job -Force
        $theirs[0].InvocationInfo.ScriptLineNumber | Should -Be 0
    }

    It 'marks a task with a terminating error Failed and keeps the ErrorRecord' {
        $task = Start-ParallelTask { 'before'; throw 'boom' } | Wait-ParallelTask
        $task.State | Should -Be 'Failed'
        $task.Errors[0] | Should -BeOfType [System.Management.Automation.ErrorRecord]
        $task.Errors[0].Exception.Message | Should -Be 'boom'
        $task | Receive-ParallelTask -ErrorAction SilentlyContinue | Should -Be 'before'
    }

    It 'keeps a task with only non-terminating errors Completed' {
        $task = Start-ParallelTask { Write-Error 'soft'; 'after' } | Wait-ParallelTask
        $task.State | Should -Be 'Completed'
        $task.Errors.Count | Should -Be 1
    }

    It 'ends only the task that calls exit' {
        $tasks = 1..3 | Start-ParallelTask { if ($_ -eq 2) { exit 3 }; "item $_" } -ThrottleLimit 1
        $r = $tasks | Wait-ParallelTask -Timeout 30 -Receive
        ($r | Sort-Object) | Should -Be @('item 1', 'item 3')
        $tasks.State | Should -Be @('Completed', 'Completed', 'Completed')
        $tasks[1].ExitCode | Should -Be 3
    }

    It 'stops a running task with Stop-ParallelTask, and -WhatIf does not' {
        $task = Start-ParallelTask { Start-Sleep -Seconds 60 }
        Start-Sleep -Milliseconds 300
        $task | Stop-ParallelTask -WhatIf
        $task.State | Should -BeIn 'Queued', 'Running'
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $task | Stop-ParallelTask
        $task | Wait-ParallelTask -Timeout 10 | Out-Null
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 3
        $task.State | Should -Be 'Stopped'
    }

    It 'keeps its workers usable after stopping a task whose finally block sat in a wait the interrupt cannot end' {
        # The stop escalates to Thread.Interrupt after 0.5 s; a native wait in a finally block
        # outlasts that, and the interrupt then hit PowerShell's own completion of the stop,
        # which left the worker's PowerShell instance Stopping for good.
        $t = New-SyncTable
        $task = Start-ParallelTask { $x = $using:t; try { $x.entered = 1; Start-Sleep -Seconds 30 } finally { $null = Wait-SyncTable $x late -Timeout 1 -ErrorAction SilentlyContinue } }
        $t.WaitFor('entered', [timespan]::FromSeconds(30)) | Should -BeTrue
        $task | Stop-ParallelTask
        $task | Wait-ParallelTask -Timeout 10 | Out-Null
        $task.State | Should -Be 'Stopped'
        Start-Sleep -Seconds 2   # the finally block's wait is over
        $next = @(1..8 | Start-ParallelTask { 'ok' } -ThrottleLimit 4)
        @($next | Wait-ParallelTask -Timeout 60 -Receive) | Should -Be (@('ok') * 8)
        @($next | Where-Object State -ne 'Completed' | ForEach-Object { "$($_.State): $($_.StatusMessage)" }) | Should -BeNullOrEmpty
    }

    It 'never runs the queued scripts of tasks stopped together, with Stop-ParallelTask or Remove-ParallelTask -Force' {
        # Stopped one by one, each running task's stop freed a slot that the next queued
        # task took before its own stop came: 23 to 100 of 100 scripts ran (QA).
        foreach ($how in 'Stop', 'Remove') {
            $ran = New-SyncTable
            $tasks = 1..60 | Start-ParallelTask { ($using:ran)["ran$_"] = 1; Start-Sleep -Seconds 30 } -ThrottleLimit 3
            $sw = [Diagnostics.Stopwatch]::StartNew()
            while ($ran.Count -lt 3 -and $sw.Elapsed.TotalSeconds -lt 30) { Start-Sleep -Milliseconds 20 }
            $ran.Count | Should -Be 3 -Because 'three scripts run at once'
            if ($how -eq 'Stop') { $tasks | Stop-ParallelTask } else { $tasks | Remove-ParallelTask -Force }
            Start-Sleep -Milliseconds 500
            $ran.Count | Should -Be 3 -Because "only the three running scripts ran ($how)"
            @($tasks | Where-Object State -ne 'Stopped').Count | Should -Be 0
        }
    }

    It 'lets the finally block of a stopped task run to its end, also past the stop''s interrupt step' {
        # PowerShell runs finally blocks through a stop (it suspends the stop while one
        # runs). The stop's second step, a Thread.Interrupt 0.5 s after asking, cut such a
        # block short in its first wait (Start-Sleep, or a .NET Sleep), so cleanup code that
        # took longer than that never finished.
        $t = New-SyncTable
        $task = Start-ParallelTask {
            $x = $using:t
            try { $x.entered = 1; Start-Sleep -Seconds 30 }
            finally { Start-Sleep -Milliseconds 1200; [Threading.Thread]::Sleep(300); $x.cleaned = 1 }
        }
        $t.WaitFor('entered', [timespan]::FromSeconds(30)) | Should -BeTrue
        $task | Stop-ParallelTask
        $t.WaitFor('cleaned', [timespan]::FromSeconds(10)) | Should -BeTrue -Because 'the finally block ran to its end'
        $task | Wait-ParallelTask -Timeout 10 | Out-Null
        $task.State | Should -Be 'Stopped'
        $next = @(1..4 | Start-ParallelTask { 'ok' } -ThrottleLimit 2)
        @($next | Wait-ParallelTask -Timeout 60 -Receive) | Should -Be (@('ok') * 4)
    }

    It 'returns promptly when a waiting pipeline is stopped (Ctrl+C), stopping what it waited on' {
        $task = Start-ParallelTask { Start-Sleep -Seconds 60 }
        $ready = New-SyncTable
        $ps = [PowerShell]::Create()
        $null = $ps.AddScript('param($module, $task, $ready) Import-Module $module; $ready.Go = 1; $task | Wait-ParallelTask').
            AddArgument($env:SYNCPOOL_MODULE_PATH).AddArgument($task).AddArgument($ready)
        $handle = $ps.BeginInvoke()
        $ready.WaitFor('Go', 30000) | Should -BeTrue
        Start-Sleep -Milliseconds 300
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 3
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $task.State | Should -Be 'Stopped'
        $null = $handle
        $ps.Dispose()
    }

    It 'runs Start/Wait nested inside a task' {
        $r = Start-ParallelTask {
            1..3 | Start-ParallelTask { $_ * 10 } | Wait-ParallelTask -Receive | Measure-Object -Sum | ForEach-Object Sum
        } | Wait-ParallelTask -Timeout 60 -Receive
        $r | Should -Be 60
    }

    It 'runs nested tasks on the same pool at throttle 1 without deadlock' {
        $pool = New-ParallelPool -ThrottleLimit 1
        $r = Start-ParallelTask { 1..2 | Start-ParallelTask { $_ } -Pool $using:pool | Wait-ParallelTask -Receive } -Pool $pool |
            Wait-ParallelTask -Timeout 30 -Receive
        ($r | Sort-Object) | Should -Be @(1, 2)
        $pool | Remove-ParallelPool -Confirm:$false
    }
}

Describe 'Receiving streams' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'sends errors through the caller''s error stream (-ErrorVariable)' {
        $task = Start-ParallelTask { Write-Error 'e1'; 'out' } | Wait-ParallelTask
        $out = Receive-ParallelTask $task -ErrorVariable ev -ErrorAction SilentlyContinue
        $out | Should -Be 'out'
        $ev.Count | Should -Be 1
        $ev[0].Exception.Message | Should -Be 'e1'
    }

    It 'sends warnings through the caller''s warning stream (-WarningVariable)' {
        $task = Start-ParallelTask { Write-Warning 'w1' } | Wait-ParallelTask
        Receive-ParallelTask $task -WarningVariable wv -WarningAction SilentlyContinue
        $wv[0].Message | Should -Be 'w1'
    }

    It 'keeps output and records in the order written (3>&1)' {
        $task = Start-ParallelTask { 'a'; Write-Warning 'w'; 'b' } | Wait-ParallelTask
        $all = @(Receive-ParallelTask $task 3>&1)
        $all.Count | Should -Be 3
        $all[0] | Should -Be 'a'
        $all[1] | Should -BeOfType [System.Management.Automation.WarningRecord]
        $all[1].Message | Should -Be 'w'
        $all[2] | Should -Be 'b'
    }

    It 'sends information records, Write-Host included' {
        $task = Start-ParallelTask { Write-Information 'info'; Write-Host 'host' } | Wait-ParallelTask
        $all = @(Receive-ParallelTask $task -InformationAction SilentlyContinue 6>&1)
        @($all | ForEach-Object { "$($_.MessageData)" }) | Should -Be @('info', 'host')
    }

    It 'produces verbose records when -Verbose was given to Start-ParallelTask' {
        $with = Start-ParallelTask { Write-Verbose 'v1' } -Verbose 4>$null | Wait-ParallelTask
        $without = Start-ParallelTask { Write-Verbose 'v2' } | Wait-ParallelTask
        @(Receive-ParallelTask $with -Verbose 4>&1).Message | Should -Be 'v1'
        @(Receive-ParallelTask $without -Verbose 4>&1).Count | Should -Be 0
    }

    It 'drains what it received unless -Keep' {
        $task = Start-ParallelTask { 1; 2 } | Wait-ParallelTask
        $task | Receive-ParallelTask -Keep | Should -Be @(1, 2)
        $task | Receive-ParallelTask | Should -Be @(1, 2)
        $task | Receive-ParallelTask | Should -BeNullOrEmpty
    }

    It 'maps input to output with -AsHashtable' {
        $r = 'a', 'b', 'c' | Start-ParallelTask { if ($_ -eq 'b') { 1, 2 } elseif ($_ -eq 'a') { $_.ToUpper() } } |
            Wait-ParallelTask -Receive -AsHashtable
        $r['a'] | Should -Be 'A'
        $r['B'] | Should -Be @(1, 2)
        $r.ContainsKey('c') | Should -BeTrue
        $r['c'] | Should -BeNullOrEmpty
    }

    It 'refuses -AsHashtable for batch tasks with SyncPool.BatchNotKeyed' {
        $tasks = 1..4 | Start-ParallelTask { $_ } -BatchSize 2 | Wait-ParallelTask
        $null = $tasks | Receive-ParallelTask -AsHashtable -ErrorVariable be -ErrorAction SilentlyContinue
        $be[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.BatchNotKeyed*'
    }

    It 'shows an overall progress bar while waiting' {
        $ps = [PowerShell]::Create()
        $null = $ps.AddScript('param($m) Import-Module $m; 1..3 | Start-ParallelTask { Start-Sleep -Milliseconds 400 } | Wait-ParallelTask').
            AddArgument($env:SYNCPOOL_MODULE_PATH)
        $null = $ps.Invoke()
        $progress = @($ps.Streams.Progress | Where-Object Activity -Like 'Waiting for 3 parallel tasks*')
        $progress.Count | Should -BeGreaterThan 0
        $progress[-1].RecordType | Should -Be 'Completed'
        $ps.Dispose()
    }

    It 'writes the seed template''s verbose wait messages' {
        $tasks = 1..2 | Start-ParallelTask { Start-Sleep -Milliseconds 1300 }
        $messages = @($tasks | Wait-ParallelTask -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        @($messages.Message -match '^Waiting for \d+ tasks to finish\. Waited for [\d.,]+ seconds\.$').Count | Should -BeGreaterThan 0
        $messages[-1].Message | Should -Match '^All 2 tasks finished'
    }
}

Describe 'Finding, stopping and removing tasks; bad input' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Remove-AllParallel }

    It 'finds tasks by id, name and state' {
        $tasks = 1..2 | Start-ParallelTask { $_ } -Name 'SyncPoolFind' | Wait-ParallelTask
        (Get-ParallelTask -Id $tasks[0].Id).Id | Should -Be $tasks[0].Id
        @(Get-ParallelTask -Name 'SyncPoolF*').Count | Should -Be 2
        @(Get-ParallelTask -Name 'SyncPoolFind' -State Completed).Count | Should -Be 2
        @(Get-ParallelTask -Name 'SyncPoolFind' -State Failed).Count | Should -Be 0
        { Get-ParallelTask -Id 987654321 -ErrorAction Stop } | Should -Throw -ErrorId 'SyncPool.TaskNotFound,*'
    }

    It 'refuses to wait on a removed task with SyncPool.TaskRemoved' {
        $task = Start-ParallelTask { 1 } | Wait-ParallelTask
        $task | Remove-ParallelTask
        $task.IsRemoved | Should -BeTrue
        { $task | Wait-ParallelTask -ErrorAction Stop } | Should -Throw -ErrorId 'SyncPool.TaskRemoved,*'
    }

    It 'refuses to remove an unfinished task unless -Force' {
        $task = Start-ParallelTask { Start-Sleep -Seconds 60 }
        { $task | Remove-ParallelTask -ErrorAction Stop } | Should -Throw -ErrorId 'SyncPool.NotFinished,*'
        $task | Remove-ParallelTask -Force
        $task.IsRemoved | Should -BeTrue
        $task.State | Should -Be 'Stopped'
    }

    It 'refuses to start on a removed pool with SyncPool.Disposed' {
        $pool = New-ParallelPool -ThrottleLimit 1
        $pool | Remove-ParallelPool -Confirm:$false
        { Start-ParallelTask { 1 } -Pool $pool } | Should -Throw -ErrorId 'SyncPool.Disposed,*'
    }

    It 'validates -ThrottleLimit, -TimeoutSeconds, -BatchSize, -ScriptBlock and -Timeout' {
        { Start-ParallelTask { 1 } -ThrottleLimit 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Start-ParallelTask { 1 } -TimeoutSeconds 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Start-ParallelTask { 1 } -TimeoutSeconds -5 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Start-ParallelTask { 1 } -BatchSize 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Start-ParallelTask -ScriptBlock $null } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Wait-ParallelTask -Task (Start-ParallelTask { 1 }) -Timeout -2 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        # -1 is "no limit", as for Wait-Job and Wait-SyncTable.
        (Wait-ParallelTask -Task (Start-ParallelTask { 1 }) -Timeout -1 -Receive) | Should -Be 1
    }

    It 'refuses -BatchSize for an advanced script that takes no pipeline input' {
        { 1..3 | Start-ParallelTask { [CmdletBinding()] param($x) $x } -BatchSize 2 } | Should -Throw -ErrorId 'SyncPool.InvalidArgument,*'
    }

    It 'refuses -ImportModule with -Pool' {
        $pool = New-ParallelPool -ThrottleLimit 1
        { Start-ParallelTask { 1 } -Pool $pool -ImportModule 'Foo' } | Should -Throw -ErrorId 'SyncPool.InvalidArgument,*'
        $pool | Remove-ParallelPool -Confirm:$false
    }
}

// snnc testbench for snnc_mesh (a single core is a 1-core mesh).
//
// Parameters come from `snnc_params.vh` (written by snnc.backends.rtl.sim), which must
// define the localparams N_CORES, N_NEURONS, N_AXONS, WEIGHT_BITS, MEM_BITS, ACC_BITS,
// FIFO_DEPTH, FANOUT, PAR, MAG_BITS, FRAC_BITS, CUR, GROUPS, RQ_SHIFT, RQ_HALF, GB_DELAY, CORE_PREFIX, ROUTE_FILE, ORDER, CORE_NEURONS,
// CORE_AXONS, IN_FILE, OUT_FILE.
//
// IN_FILE (decimal, whitespace separated):  T, then for each step: E, then E quadruples
//   "core axon sign magnitude" (sign 0: +m event, 1: -m event; a spike has magnitude 1),
//   in delivery order.
// OUT_FILE: one line per output spike "t core neuron sign", and after each step a line
//   "S t cycles" with the clock cycles from the first input event of the step to step_done.
`timescale 1ns / 1ps
`default_nettype none

// Lint waivers (testbench only): $fscanf results and 32-bit integers are partly unused,
// the clock generator uses a blocking assignment.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off BLKSEQ */
module snnc_tb;
`include "snnc_params.vh"
    localparam integer CB = (N_CORES > 1) ? $clog2(N_CORES) : 1;
    localparam integer NB = (N_NEURONS > 1) ? $clog2(N_NEURONS) : 1;
    localparam integer AB = (N_AXONS > 1) ? $clog2(N_AXONS) : 1;

    reg clk = 1'b0;
    reg rst = 1'b1;
    reg in_valid = 1'b0;
    reg [CB-1:0] in_core = 0;
    reg [AB-1:0] in_axon = 0;
    reg in_sign = 1'b0;
    reg [MAG_BITS-1:0] in_mag = 0;
    reg step = 1'b0;
    wire in_ready, idle, step_done, out_valid, out_sign;
    wire [CB-1:0] out_core;
    wire [NB-1:0] out_neuron;

    snnc_mesh #(
        .N_CORES(N_CORES), .N_NEURONS(N_NEURONS), .N_AXONS(N_AXONS), .WEIGHT_BITS(WEIGHT_BITS),
        .MEM_BITS(MEM_BITS), .ACC_BITS(ACC_BITS), .FIFO_DEPTH(FIFO_DEPTH), .FANOUT(FANOUT), .PAR(PAR),
        .MAG_BITS(MAG_BITS), .FRAC_BITS(FRAC_BITS),
        .CUR(CUR), .GROUPS(GROUPS), .RQ_SHIFT(RQ_SHIFT), .RQ_HALF(RQ_HALF), .GB_DELAY(GB_DELAY),
        .CORE_PREFIX(CORE_PREFIX), .ROUTE_FILE(ROUTE_FILE), .ORDER(ORDER),
        .CORE_NEURONS(CORE_NEURONS), .CORE_AXONS(CORE_AXONS)
    ) dut (
        .clk(clk), .rst(rst),
        .in_valid(in_valid), .in_ready(in_ready), .in_core(in_core), .in_axon(in_axon), .in_sign(in_sign),
        .in_mag(in_mag),
        .step(step), .idle(idle), .step_done(step_done),
        .out_valid(out_valid), .out_ready(1'b1), .out_core(out_core), .out_neuron(out_neuron),
        .out_sign(out_sign)
    );

    always #5 clk = ~clk;

    integer cycle = 0;
    always @(posedge clk) cycle <= cycle + 1;

    integer fin, fout, r, n_steps, t, n_ev, e, c_i, a_i, s_i, m_i, t0;
    integer cur_t = 0;
    integer total_cycles = 0;

    always @(posedge clk) begin
        if (out_valid) $fwrite(fout, "%0d %0d %0d %0d\n", cur_t, out_core, out_neuron, out_sign);
    end

    initial begin
        fin = $fopen(IN_FILE, "r");
        fout = $fopen(OUT_FILE, "w");
        if (fin == 0 || fout == 0) begin
            $display("snnc_tb: cannot open %0s or %0s", IN_FILE, OUT_FILE);
            $finish;
        end
        r = $fscanf(fin, "%d", n_steps);
        repeat (3) @(negedge clk);
        rst = 1'b0;
        for (t = 0; t < n_steps; t = t + 1) begin
            r = $fscanf(fin, "%d", n_ev);
            @(negedge clk);
            while (!idle) @(negedge clk);
            cur_t = t;
            t0 = cycle;
            for (e = 0; e < n_ev; e = e + 1) begin
                r = $fscanf(fin, "%d %d %d %d", c_i, a_i, s_i, m_i);
                in_valid = 1'b1;
                in_core = c_i[CB-1:0];
                in_axon = a_i[AB-1:0];
                in_sign = s_i[0];
                in_mag = m_i[MAG_BITS-1:0];
                #1;
                while (!in_ready) begin
                    @(negedge clk);
                    #1;
                end
                @(negedge clk);   // the transfer happened at the posedge in between
            end
            in_valid = 1'b0;
            step = 1'b1;
            #1;
            while (!idle) begin
                @(negedge clk);
                #1;
            end
            @(negedge clk);
            step = 1'b0;
            while (!step_done) @(negedge clk);
            $fwrite(fout, "S %0d %0d\n", t, cycle - t0);
            total_cycles = total_cycles + (cycle - t0);
        end
        $fwrite(fout, "END %0d\n", total_cycles);
        $fclose(fout);
        $fclose(fin);
        $finish;
    end
endmodule

`default_nettype wire

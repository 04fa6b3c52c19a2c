// snnc multi-core top: N_CORES identical snnc_lif_core instances connected through
// routing tables.  One time step:
//   1. (idle) external input events {core, axon, sign, magnitude} are accepted on the in_* stream
//      and pushed into the addressed core's input FIFO;
//   2. `step` pulse: the cores are stepped one after the other in the order ORDER
//      (ORDER[8*k +: 8] is the k-th core to run).  While core c runs its update phase,
//      each of its output spikes is (a) presented on the out_* stream as {core, neuron,
//      sign} and (b) sent to every valid entry of its routing-table row, i.e. pushed into
//      the destination core's input FIFO.  A destination that runs later in ORDER sees
//      the spike in the same time step (feed-forward networks: layer order); a
//      destination that already ran (feedback) sees it in the next time step.
//   3. `step_done` pulses when the last core has finished and its spikes are routed.
//
// Routing image ROUTE_FILE ($readmemh): N_CORES*N_NEURONS*FANOUT words, address
//   (c*N_NEURONS + n)*FANOUT + j, word = {valid[1], dest_core[CB], dest_axon[AB]}.
// Core images: {CORE_PREFIX, "wXX.memh"} and {CORE_PREFIX, "pXX.memh"}, XX the core
// index as two lower-case hex digits (see snnc_lif_core for their formats).
// Core sizes: N_NEURONS / N_AXONS are the largest core's; CORE_NEURONS[32*c +: 32] and
// CORE_AXONS[32*c +: 32] give core c its own size (0: the largest), so that a small layer
// does not pay for the largest one (its images then have its own size).
`timescale 1ns / 1ps
`default_nettype none

module snnc_mesh #(
    parameter integer N_CORES     = 2,
    parameter integer N_NEURONS   = 16,
    parameter integer N_AXONS     = 16,
    parameter integer WEIGHT_BITS = 4,
    parameter integer MEM_BITS    = 12,
    parameter integer ACC_BITS    = 16,
    parameter integer FIFO_DEPTH  = 16,
    parameter integer FANOUT      = 1,
    parameter integer PAR         = 1,    // synapses per clock in each core (see snnc_lif_core)
    parameter integer MAG_BITS    = 1,    // external events' magnitude width (graded events; routed spikes: 1)
    parameter integer FRAC_BITS   = 0,    // multiplicative leak's fractional bits in every core (0: none)
    parameter integer CUR         = 0,    // 1: every core has current compartments (see snnc_lif_core)
    parameter integer GROUPS      = 1,    // 2: every core has a second, requantized accumulator bank (gXX.memh)
    parameter integer RQ_SHIFT    = 0,
    parameter integer RQ_HALF     = 0,
    parameter integer GB_DELAY    = 0,
    parameter         CORE_PREFIX = "",
    parameter         ROUTE_FILE  = "",
    parameter [8*N_CORES-1:0] ORDER = identity_order(N_CORES),
    parameter [32*N_CORES-1:0] CORE_NEURONS = {(32 * N_CORES){1'b0}},
    parameter [32*N_CORES-1:0] CORE_AXONS = {(32 * N_CORES){1'b0}},
    parameter integer CB  = (N_CORES > 1) ? $clog2(N_CORES) : 1,
    parameter integer NB  = (N_NEURONS > 1) ? $clog2(N_NEURONS) : 1,
    parameter integer AB  = (N_AXONS > 1) ? $clog2(N_AXONS) : 1
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          in_valid,
    output wire          in_ready,
    input  wire [CB-1:0] in_core,
    input  wire [AB-1:0] in_axon,
    input  wire          in_sign,
    input  wire [MAG_BITS-1:0] in_mag,
    input  wire          step,
    output wire          idle,
    output reg           step_done,
    output wire          out_valid,
    input  wire          out_ready,
    output wire [CB-1:0] out_core,
    output wire [NB-1:0] out_neuron,
    output wire          out_sign
);
    function [8*N_CORES-1:0] identity_order;
        input integer n;
        integer i;
        begin
            identity_order = 0;
            for (i = 0; i < n; i = i + 1) identity_order[8*i +: 8] = i[7:0];
        end
    endfunction

    /* verilator lint_off UNUSEDSIGNAL */
    function [7:0] hex_char;        // lower-case hex digit of v % 16
        input integer v;
        reg [3:0] d;
        begin
            d = v[3:0];
            hex_char = (d < 4'd10) ? (8'd48 + {4'd0, d}) : (8'd87 + {4'd0, d});
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    localparam integer PBW0 = 3 * MEM_BITS + $clog2(MEM_BITS) + 4 + ((FRAC_BITS > 0) ? FRAC_BITS + 2 : 0);
    localparam integer PBW = PBW0 + ((CUR > 0) ? 1 + MEM_BITS + $clog2(MEM_BITS) + ((FRAC_BITS > 0) ? FRAC_BITS + 2 : 0) : 0)
                           + ((GROUPS > 1) ? ACC_BITS : 0);
    localparam integer RE = 1 + CB + AB;                         // route entry width
    localparam integer RN = N_CORES * N_NEURONS * FANOUT;        // route entries
    localparam integer RAB = (RN > 1) ? $clog2(RN) : 1;
    localparam integer JB = (FANOUT > 1) ? $clog2(FANOUT) : 1;
    localparam integer KB = $clog2(N_CORES + 1);

    // ------------------------------------------------------------------ cores
    wire [N_CORES-1:0] c_in_valid, c_in_ready, c_step, c_idle, c_done, c_out_valid, c_out_ready, c_out_sign;
    wire [N_CORES*NB-1:0] c_out_neuron;
    wire [AB-1:0] c_in_axon;
    wire c_in_sign;
    wire [MAG_BITS-1:0] c_in_mag;

    genvar gi;
    generate
        for (gi = 0; gi < N_CORES; gi = gi + 1) begin : g_core
            localparam [7:0] HI = hex_char(gi / 16);
            localparam [7:0] LO = hex_char(gi);
            localparam integer NI = (CORE_NEURONS[32*gi +: 32] == 0) ? N_NEURONS : CORE_NEURONS[32*gi +: 32];
            localparam integer AI = (CORE_AXONS[32*gi +: 32] == 0) ? N_AXONS : CORE_AXONS[32*gi +: 32];
            localparam integer NBI = (NI > 1) ? $clog2(NI) : 1;
            localparam integer ABI = (AI > 1) ? $clog2(AI) : 1;
            localparam integer CWAB = (AI * (NI / PAR) > 1) ? $clog2(AI * (NI / PAR)) : 1;
            wire [NBI-1:0] on;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [AB-1:0] ax = c_in_axon;   // a smaller core uses the low ABI bits
            /* verilator lint_on UNUSEDSIGNAL */
            /* verilator lint_off WIDTH */
            assign c_out_neuron[gi*NB +: NB] = on;   // zero-extended to NB bits
            /* verilator lint_on WIDTH */
            snnc_lif_core #(
                .N_NEURONS(NI), .N_AXONS(AI), .WEIGHT_BITS(WEIGHT_BITS),
                .MEM_BITS(MEM_BITS), .ACC_BITS(ACC_BITS), .FIFO_DEPTH(FIFO_DEPTH), .PAR(PAR),
                .MAG_BITS(MAG_BITS), .FRAC_BITS(FRAC_BITS),
                .CUR(CUR), .GROUPS(GROUPS), .RQ_SHIFT(RQ_SHIFT), .RQ_HALF(RQ_HALF), .GB_DELAY(GB_DELAY),
                .WEIGHT_FILE({CORE_PREFIX, "w", HI, LO, ".memh"}),
                .PARAM_FILE({CORE_PREFIX, "p", HI, LO, ".memh"}),
                .GROUP_FILE((GROUPS > 1) ? {CORE_PREFIX, "g", HI, LO, ".memh"} : "")
            ) u_core (
                .clk(clk), .rst(rst),
                .in_valid(c_in_valid[gi]), .in_ready(c_in_ready[gi]), .in_axon(ax[ABI-1:0]), .in_sign(c_in_sign),
                .in_mag(c_in_mag),
                .step(c_step[gi]), .idle(c_idle[gi]), .step_done(c_done[gi]),
                .out_valid(c_out_valid[gi]), .out_ready(c_out_ready[gi]),
                .out_neuron(on), .out_sign(c_out_sign[gi]),
                .cfg_w_we(1'b0), .cfg_w_addr({CWAB{1'b0}}), .cfg_w_data({(PAR * WEIGHT_BITS){1'b0}}),
                .cfg_p_we(1'b0), .cfg_p_addr({NBI{1'b0}}), .cfg_p_data({PBW{1'b0}})
            );
        end
    endgenerate

    // ------------------------------------------------------------------ routing memory
    reg [RE-1:0] rmem [0:RN-1];
    generate
        if (ROUTE_FILE != "") begin : g_rload
            initial $readmemh(ROUTE_FILE, rmem);
        end else begin : g_rzero
            integer ri;
            initial for (ri = 0; ri < RN; ri = ri + 1) rmem[ri] = {RE{1'b0}};
        end
    endgenerate

    // ------------------------------------------------------------------ sequencer
    localparam [1:0] M_IDLE = 2'd0, M_KICK = 2'd1, M_WAIT = 2'd2;
    localparam [1:0] R_IDLE = 2'd0, R_OBS = 2'd1, R_RD = 2'd2, R_PUSH = 2'd3;
    reg [1:0] mstate, rstate;
    reg [KB-1:0] k;
    reg core_done;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [7:0] cur8 = ORDER[8*k +: 8];    // only the low CB bits are used
    /* verilator lint_on UNUSEDSIGNAL */
    wire [CB-1:0] cur = cur8[CB-1:0];

    reg [NB-1:0] r_n;
    reg r_sign;
    reg [JB-1:0] r_j;
    reg [RE-1:0] rt_q;
    wire rt_valid = rt_q[RE-1];
    wire [CB-1:0] rt_core = rt_q[AB +: CB];
    wire [AB-1:0] rt_axon = rt_q[AB-1:0];

    /* verilator lint_off WIDTH */
    wire [RAB-1:0] r_addr = ({{RAB{1'b0}}, cur} * N_NEURONS + r_n) * FANOUT + r_j;
    /* verilator lint_on WIDTH */
    always @(posedge clk) if (rstate == R_OBS || rstate == R_RD) rt_q <= rmem[r_addr];

    wire ext_phase = (mstate == M_IDLE);
    wire r_push = (rstate == R_PUSH) && rt_valid;
    wire r_entry_done = (rstate == R_PUSH) && (!rt_valid || dst_ready);
    wire r_last = (FANOUT == 1) || (r_j == FANOUT[JB-1:0] - 1'b1);
    // the router takes the running core's next spike when idle or while finishing the last route
    wire r_free = (mstate == M_WAIT) && ((rstate == R_IDLE) || (r_entry_done && r_last));
    wire r_take = r_free && c_out_valid[cur];
    assign c_in_axon = ext_phase ? in_axon : rt_axon;
    assign c_in_sign = ext_phase ? in_sign : r_sign;
    localparam [MAG_BITS-1:0] MAG_ONE = 1;
    assign c_in_mag = ext_phase ? in_mag : MAG_ONE;
    wire [CB-1:0] dst = ext_phase ? in_core : rt_core;
    wire dst_ready = c_in_ready[dst];
    assign in_ready = ext_phase && dst_ready;

    genvar gj;
    generate
        for (gj = 0; gj < N_CORES; gj = gj + 1) begin : g_wire
            assign c_in_valid[gj] = (dst == gj) && (ext_phase ? in_valid : r_push);
            assign c_step[gj] = (mstate == M_KICK) && (cur == gj) && c_idle[gj];
            assign c_out_ready[gj] = r_free && (cur == gj);
        end
    endgenerate

    assign out_valid = (rstate == R_OBS);
    assign out_core = cur;
    assign out_neuron = r_n;
    assign out_sign = r_sign;
    assign idle = (mstate == M_IDLE) && (&c_idle);

    always @(posedge clk) begin
        step_done <= 1'b0;
        if (rst) begin
            mstate <= M_IDLE;
            rstate <= R_IDLE;
            k <= 0;
            core_done <= 1'b0;
        end else begin
            // router
            // router: R_OBS presents the spike on out_* while reading route entry 0;
            // R_PUSH pushes entry j into its destination; R_RD reads entry j+1
            if (r_take) begin
                r_n <= c_out_neuron[cur*NB +: NB];
                r_sign <= c_out_sign[cur];
                r_j <= 0;
                rstate <= R_OBS;
            end else begin
                case (rstate)
                    R_OBS: if (out_ready) rstate <= R_PUSH;
                    R_RD: rstate <= R_PUSH;
                    R_PUSH: if (r_entry_done) begin
                        if (r_last) rstate <= R_IDLE;
                        else begin
                            r_j <= r_j + 1'b1;
                            rstate <= R_RD;
                        end
                    end
                    default: ;
                endcase
            end
            // sequencer
            case (mstate)
                M_IDLE: if (step && (&c_idle)) begin
                    k <= 0;
                    mstate <= M_KICK;
                end
                M_KICK: if (c_idle[cur]) begin
                    core_done <= 1'b0;
                    mstate <= M_WAIT;
                end
                M_WAIT: begin
                    if (c_done[cur]) core_done <= 1'b1;
                    if (core_done && rstate == R_IDLE) begin
                        if (k == N_CORES[KB-1:0] - 1'b1) begin
                            mstate <= M_IDLE;
                            step_done <= 1'b1;
                        end else begin
                            k <= k + 1'b1;
                            mstate <= M_KICK;
                        end
                    end
                end
                default: mstate <= M_IDLE;
            endcase
        end
    end
endmodule

`default_nettype wire

// snnc reference LIF core (Verilog-2005).
//
// Implements exactly the integer neuron semantics of snnc (docs/rtl.md, "integer semantics"):
//   acc[n]  = sat_A(acc[n] +/- m * w[a][n])       for each input event (a, sign, m), in arrival order
//                                                  (m = 1 for a spike; m > 1: a graded event)
//   leak    = (k == 0) ? 0 : v >>> k               arithmetic shift, k = leak_shift[n]
//           | v - ((v * a + 2^(f-1)) >>> f)        mul leak (only when FRAC_BITS = f > 0 and the
//                                                  neuron's mul bit is set; a = decay[n] in 0..2^f)
//   x       = acc[n]                               (GROUPS = 2: x = sat_A(acc[n] + rq(accB[n])), accB the
//                                                  second accumulator bank of the axons whose group bit is
//                                                  set, rq(b) = (b + (RQ_HALF ? 2^(RQ_SHIFT-1) : 0)) >>> RQ_SHIFT;
//                                                  from step GB_DELAY on, acc[n] is first sat_A(acc[n] + gbias[n]))
//   i       = sat_N(i - leak_i(i) + x + bias_i[n]), x = i   (CUR = 1 and the neuron's cur bit set: the
//                                                  synaptic-current compartment of a CUBA neuron, leak_i as leak)
//   v'      = sat_N(v - leak + x + bias[n])
//   s       = cmp_gt ? v' > v_th : v' >= v_th      (ternary neurons: s = -1 if v' <= -v_th)
//   v       = reset none: v' | hard: s ? v_reset : v' | soft: s ? sat_N(v' -/+ v_th) : v'
//
// Event-driven datapath, PAR synapses per clock (row-parallel: one RAM word holds the
// weights of PAR consecutive neurons, one accumulator word their PAR accumulators):
//   input FIFO of {sign, magnitude, axon} -> weight row read (N_NEURONS/PAR words, sync-read RAM) ->
//   PAR saturating accumulates into the acc RAM.  A `step` pulse closes the time step: the
//   FIFO is drained, then the neuron update runs over the neurons (one per clock, 2-stage
//   pipeline) and pushes the index of every firing neuron on the output stream.
//
// Memory images ($readmemh, optional; the same memories can be written at run time
// through the cfg_* ports):
//   WEIGHT_FILE: N_AXONS*N_NEURONS/PAR words of PAR*WEIGHT_BITS bits, word address
//                a*(N_NEURONS/PAR) + n/PAR, neuron n's weight in bits
//                [(n%PAR)*WEIGHT_BITS +: WEIGHT_BITS], two's complement.
//   PARAM_FILE : N_NEURONS words of PB bits, fields from bit 0 upwards:
//                v_th[MEM_BITS], v_reset[MEM_BITS], bias[MEM_BITS], leak_shift[SB],
//                reset_mode[2] (0 none, 1 hard, 2 soft, 3 = none), cmp_gt[1], ternary[1],
//                and when FRAC_BITS > 0: mul[1], decay[FRAC_BITS+1] (unsigned);
//                then when CUR = 1: cur[1], cur_bias[MEM_BITS], cur_leak_shift[SB] and when
//                FRAC_BITS > 0: cur_mul[1], cur_decay[FRAC_BITS+1].
//                then when GROUPS = 2: gbias[ACC_BITS] (bank A's bias, added from step GB_DELAY on).
//   GROUP_FILE : (GROUPS = 2) N_AXONS words of 1 bit: the axon's accumulator bank (1: bank B).
`timescale 1ns / 1ps
`default_nettype none

module snnc_lif_core #(
    parameter integer N_NEURONS   = 16,
    parameter integer N_AXONS     = 16,
    parameter integer WEIGHT_BITS = 4,
    parameter integer MEM_BITS    = 12,
    parameter integer ACC_BITS    = 16,
    parameter integer FIFO_DEPTH  = 16,   // power of two, >= 2
    parameter integer PAR         = 1,    // synapses per clock: a power of two dividing N_NEURONS
    parameter integer MAG_BITS    = 1,    // width of a graded event's unsigned magnitude (1: spikes only, m = 1)
    parameter integer FRAC_BITS   = 0,    // f of the multiplicative leak (0: no multiplier, shift/no leak only)
    parameter integer CUR         = 0,    // 1: per-neuron synaptic-current compartment (CUBA), MEM_BITS wide
    parameter integer GROUPS      = 1,    // 2: a second accumulator bank (an axon group), requantized at update
    parameter integer RQ_SHIFT    = 0,    // bank B's requantization shift
    parameter integer RQ_HALF     = 0,    // 1: bank B rounds half up before the shift (else floor)
    parameter integer GB_DELAY    = 0,    // bank A's bias (GROUPS = 2) is added from this step (0 or 1) on
    parameter         WEIGHT_FILE = "",
    parameter         PARAM_FILE  = "",
    parameter         GROUP_FILE  = "",
    // derived widths (do not override)
    parameter integer NB  = (N_NEURONS > 1) ? $clog2(N_NEURONS) : 1,
    parameter integer AB  = (N_AXONS > 1) ? $clog2(N_AXONS) : 1,
    parameter integer NG  = N_NEURONS / PAR,                       // neuron groups (RAM words per row)
    parameter integer GB  = (NG > 1) ? $clog2(NG) : 1,
    parameter integer WAB = (N_AXONS * NG > 1) ? $clog2(N_AXONS * NG) : 1,
    parameter integer SB  = $clog2(MEM_BITS),
    parameter integer PB0 = 3 * MEM_BITS + SB + 4 + ((FRAC_BITS > 0) ? FRAC_BITS + 2 : 0),
    parameter integer PB1 = PB0 + ((CUR > 0) ? 1 + MEM_BITS + SB + ((FRAC_BITS > 0) ? FRAC_BITS + 2 : 0) : 0),
    parameter integer PB  = PB1 + ((GROUPS > 1) ? ACC_BITS : 0)
) (
    input  wire                   clk,
    input  wire                   rst,          // synchronous, active high
    // input events
    input  wire                   in_valid,
    output wire                   in_ready,
    input  wire [AB-1:0]          in_axon,
    input  wire                   in_sign,      // 1: the event subtracts the weight (ternary -1)
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [MAG_BITS-1:0]    in_mag,       // magnitude m: the event adds (or subtracts) m * w (ignored if MAG_BITS = 1)
    /* verilator lint_on UNUSEDSIGNAL */
    // time step control
    input  wire                   step,         // pulse while idle: no more events for this step
    output wire                   idle,
    output reg                    step_done,    // one-cycle pulse at the end of the update phase
    // output spikes
    output reg                    out_valid,
    input  wire                   out_ready,
    output reg  [NB-1:0]          out_neuron,
    output reg                    out_sign,     // 1: the spike is -1 (ternary neuron)
    // run-time configuration (tie to 0 when the memory images are used)
    input  wire                   cfg_w_we,
    input  wire [WAB-1:0]         cfg_w_addr,
    input  wire [PAR*WEIGHT_BITS-1:0] cfg_w_data,
    input  wire                   cfg_p_we,
    input  wire [NB-1:0]          cfg_p_addr,
    input  wire [PB-1:0]          cfg_p_data
);
    localparam integer FAB = $clog2(FIFO_DEPTH);
    localparam integer XB0 = ((MEM_BITS > ACC_BITS) ? MEM_BITS : ACC_BITS) + 2;
    localparam integer DW  = MEM_BITS + FRAC_BITS + 2;           // v * a + 2^(f-1) without overflow
    localparam integer XB  = (FRAC_BITS > 0 && DW > XB0) ? DW : XB0;
    localparam integer LP  = $clog2(PAR);
    // accumulate width: holds acc +/- m * w without overflow (|m * w| < 2^(WEIGHT_BITS+MAG_BITS-1))
    localparam integer SW  = ((ACC_BITS > WEIGHT_BITS + MAG_BITS) ? ACC_BITS : WEIGHT_BITS + MAG_BITS) + 1;
    localparam integer MB  = (MAG_BITS > 1) ? MAG_BITS : 0;
    localparam integer FW  = AB + MB + 1;   // FIFO entry {sign, magnitude (MAG_BITS > 1 only), axon}

    localparam [2:0] S_CLEAR = 3'd0, S_IDLE = 3'd1, S_DRAIN = 3'd2, S_UPDATE = 3'd3, S_FLUSH = 3'd4;

    // ------------------------------------------------------------------ memories
    reg [PAR*WEIGHT_BITS-1:0] wmem [0:N_AXONS*NG-1];
    reg [PB-1:0]          pmem [0:N_NEURONS-1];
    reg [MEM_BITS-1:0]    vmem [0:N_NEURONS-1];
    reg [PAR*ACC_BITS-1:0] amem [0:NG-1];
    reg [FW-1:0]          fifo [0:FIFO_DEPTH-1];

    generate
        if (WEIGHT_FILE != "") begin : g_wload
            initial $readmemh(WEIGHT_FILE, wmem);
        end
        if (PARAM_FILE != "") begin : g_pload
            initial $readmemh(PARAM_FILE, pmem);
        end
    endgenerate

    always @(posedge clk) if (cfg_w_we) wmem[cfg_w_addr] <= cfg_w_data;
    always @(posedge clk) if (cfg_p_we) pmem[cfg_p_addr] <= cfg_p_data;

    reg [2:0] state;
    reg [NB-1:0] cnt;          // clear / update issue counter
    reg issued_all;            // update phase: every neuron issued

    // ------------------------------------------------------------------ input FIFO
    reg [FAB:0] f_wr, f_rd;
    wire f_empty = (f_wr == f_rd);
    wire f_full  = (f_wr[FAB-1:0] == f_rd[FAB-1:0]) && (f_wr[FAB] != f_rd[FAB]);
    assign in_ready = !f_full;
    wire f_push = in_valid && !f_full;
    wire [FW-1:0] f_head = fifo[f_rd[FAB-1:0]];
    wire [FW-1:0] f_in;
    wire [MAG_BITS-1:0] head_mag;
    wire head_grp;                 // the head event's accumulator bank (GROUPS = 2)
    generate
        if (MAG_BITS > 1) begin : g_graded
            assign f_in = {in_sign, in_mag, in_axon};
            assign head_mag = f_head[AB +: MAG_BITS];
        end else begin : g_binary
            assign f_in = {in_sign, in_axon};
            assign head_mag = 1'b1;
        end
    endgenerate
    always @(posedge clk) if (f_push) fifo[f_wr[FAB-1:0]] <= f_in;

    // ------------------------------------------------------------------ accumulate, stage 0: issue
    reg ev_active, ev_sign, ev_grp;
    reg [MAG_BITS-1:0] ev_mag;
    reg [GB-1:0] ev_n;        // neuron group of the weight word being read
    reg [WAB-1:0] w_addr;
    wire acc_phase = (state == S_IDLE) || (state == S_DRAIN);
    wire ev_last = ev_active && (ev_n == NG[GB-1:0] - 1'b1);
    wire f_pop = acc_phase && !f_empty && (!ev_active || ev_last);

    /* verilator lint_off WIDTH */
    wire [WAB-1:0] row_base = f_head[AB-1:0] * NG;
    /* verilator lint_on WIDTH */

    always @(posedge clk) begin
        if (rst) begin
            f_wr <= 0;
            f_rd <= 0;
            ev_active <= 1'b0;
        end else begin
            if (f_push) f_wr <= f_wr + 1'b1;
            if (f_pop) f_rd <= f_rd + 1'b1;
            if (ev_active) begin
                ev_n <= ev_n + 1'b1;
                w_addr <= w_addr + 1'b1;
                if (ev_last) ev_active <= 1'b0;
            end
            if (f_pop) begin
                ev_active <= 1'b1;
                ev_sign <= f_head[FW-1];
                ev_grp <= head_grp;
                ev_mag <= head_mag;
                ev_n <= 0;
                w_addr <= row_base;
            end
        end
    end

    // ------------------------------------------------------------------ accumulate, stage 1: add
    reg a1_valid, a1_sign, a1_grp;
    reg [MAG_BITS-1:0] a1_mag;
    reg [GB-1:0] a1_n;
    reg [PAR*WEIGHT_BITS-1:0] w_q;
    always @(posedge clk) begin
        a1_valid <= ev_active && !rst;
        a1_n <= ev_n;
        a1_sign <= ev_sign;
        a1_grp <= ev_grp;
        a1_mag <= ev_mag;
        if (ev_active) w_q <= wmem[w_addr];
    end

    // ------------------------------------------------------------------ update, stage 0: issue
    reg u1_valid;
    reg [NB-1:0] u1_n;
    reg [PB-1:0] p_q;
    wire u_stall;
    wire u_issue = (state == S_UPDATE) && !issued_all && !u_stall;
    always @(posedge clk) if (u_issue) p_q <= pmem[cnt];

    // ------------------------------------------------------------------ shared state read port
    // neuron u1_n = group u1_g, lane u1_l
    /* verilator lint_off WIDTH */
    /* verilator lint_off UNUSEDSIGNAL */
    wire [NB-1:0] u1_gw = u1_n >> LP;
    wire [NB-1:0] u1_lw = u1_n & (PAR - 1);
    wire [NB-1:0] lane_max = PAR - 1;
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_on WIDTH */
    wire [GB-1:0] u1_g = u1_gw[GB-1:0];
    wire u1_lane_last = (u1_lw == lane_max);
    wire [GB-1:0] s_addr = (state == S_UPDATE) ? u1_g : a1_n;
    wire [PAR*ACC_BITS-1:0] acc_word_a = amem[s_addr];
    wire signed [ACC_BITS-1:0] acc_rd = acc_word_a[u1_lw * ACC_BITS +: ACC_BITS];
    wire [PAR*ACC_BITS-1:0] acc_word;   // the word being accumulated (bank A, or bank B for a group-1 event)
    wire signed [ACC_BITS-1:0] x_in;     // the neuron's input x (update stage)
    wire signed [MEM_BITS-1:0] v_old  = vmem[u1_n];

    // PAR saturating accumulates of m * w (SW bits, then clamp to ACC_BITS)
    wire [PAR*ACC_BITS-1:0] acc_sat;
    genvar gp;
    generate
        for (gp = 0; gp < PAR; gp = gp + 1) begin : g_lane
            wire [WEIGHT_BITS-1:0] wl = w_q[gp*WEIGHT_BITS +: WEIGHT_BITS];
            wire [ACC_BITS-1:0] al = acc_word[gp*ACC_BITS +: ACC_BITS];
            wire signed [SW-1:0] w_ext = {{(SW - WEIGHT_BITS){wl[WEIGHT_BITS-1]}}, wl};
            wire signed [SW-1:0] m_ext = {{(SW - MAG_BITS){1'b0}}, a1_mag};
            wire signed [SW-1:0] w_m = (MAG_BITS == 1) ? w_ext : w_ext * m_ext;
            wire signed [SW-1:0] acc_x = {{(SW - ACC_BITS){al[ACC_BITS-1]}}, al};
            wire signed [SW-1:0] acc_sum = a1_sign ? (acc_x - w_m) : (acc_x + w_m);
            wire acc_ovf = (acc_sum[SW-1:ACC_BITS-1] != {(SW - ACC_BITS + 1){acc_sum[SW-1]}});
            assign acc_sat[gp*ACC_BITS +: ACC_BITS] = acc_ovf ? {acc_sum[SW-1], {(ACC_BITS - 1){~acc_sum[SW-1]}}}
                                                              : acc_sum[ACC_BITS-1:0];
        end
    endgenerate

    // ------------------------------------------------------------------ update, stage 1: neuron
    wire signed [MEM_BITS-1:0] p_vth    = p_q[MEM_BITS-1:0];
    wire signed [MEM_BITS-1:0] p_vreset = p_q[2*MEM_BITS-1:MEM_BITS];
    wire signed [MEM_BITS-1:0] p_bias   = p_q[3*MEM_BITS-1:2*MEM_BITS];
    wire [SB-1:0] p_k    = p_q[3*MEM_BITS +: SB];
    wire [1:0]    p_rm   = p_q[3*MEM_BITS + SB +: 2];
    wire          p_gt   = p_q[3*MEM_BITS + SB + 2];
    wire          p_tern = p_q[3*MEM_BITS + SB + 3];

    wire signed [MEM_BITS-1:0] v_shr = v_old >>> p_k;
    wire signed [MEM_BITS-1:0] leak  = (p_k == {SB{1'b0}}) ? {MEM_BITS{1'b0}} : v_shr;
    wire signed [XB-1:0] v_x = {{(XB - MEM_BITS){v_old[MEM_BITS-1]}}, v_old};
    wire signed [XB-1:0] v_shift = v_x - $signed({{(XB - MEM_BITS){leak[MEM_BITS-1]}}, leak});
    wire signed [XB-1:0] v_keep;                 // v - leak
    generate
        if (FRAC_BITS > 0) begin : g_mul_leak
            wire          p_mul   = p_q[3*MEM_BITS + SB + 4];
            wire [FRAC_BITS:0] p_decay = p_q[3*MEM_BITS + SB + 5 +: FRAC_BITS + 1];
            wire signed [XB-1:0] a_x = {{(XB - FRAC_BITS - 1){1'b0}}, p_decay};
            localparam [XB-1:0] HALF = 1 << (FRAC_BITS - 1);
            wire signed [XB-1:0] prod = v_x * a_x + $signed(HALF);
            wire signed [XB-1:0] v_dec = prod >>> FRAC_BITS;   // v - leak = (v * a + 2^(f-1)) >>> f
            assign v_keep = p_mul ? v_dec : v_shift;
        end else begin : g_shift_leak
            assign v_keep = v_shift;
        end
    endgenerate
    wire signed [XB-1:0] x_eff;          // x, or the current compartment's new value
    wire signed [XB-1:0] v_sum = v_keep
                               + x_eff
                               + $signed({{(XB - MEM_BITS){p_bias[MEM_BITS-1]}}, p_bias});
    wire v_ovf = (v_sum[XB-1:MEM_BITS-1] != {(XB - MEM_BITS + 1){v_sum[XB-1]}});
    wire signed [MEM_BITS-1:0] v_p = v_ovf ? {v_sum[XB-1], {(MEM_BITS - 1){~v_sum[XB-1]}}}
                                           : v_sum[MEM_BITS-1:0];

    wire signed [MEM_BITS:0] vp_x  = {v_p[MEM_BITS-1], v_p};
    wire signed [MEM_BITS:0] vth_x = {p_vth[MEM_BITS-1], p_vth};
    wire fire_pos = p_gt ? (v_p > p_vth) : (v_p >= p_vth);
    wire fire_neg = p_tern && !fire_pos && (vp_x <= -vth_x);
    wire fire = fire_pos || fire_neg;

    wire signed [MEM_BITS:0] v_soft = fire_neg ? (vp_x + vth_x) : (vp_x - vth_x);
    wire soft_ovf = (v_soft[MEM_BITS] != v_soft[MEM_BITS-1]);
    wire [MEM_BITS-1:0] v_soft_sat = soft_ovf ? {v_soft[MEM_BITS], {(MEM_BITS - 1){~v_soft[MEM_BITS]}}}
                                              : v_soft[MEM_BITS-1:0];
    reg [MEM_BITS-1:0] v_next;
    always @(*) begin
        case (p_rm)
            2'd1:    v_next = fire ? p_vreset : v_p;
            2'd2:    v_next = fire ? v_soft_sat : v_p;
            default: v_next = v_p;
        endcase
    end

    assign u_stall = u1_valid && fire && out_valid && !out_ready;
    wire u_commit = u1_valid && !u_stall;

    // ------------------------------------------------------------------ state write ports
    wire clearing = (state == S_CLEAR);
    // the update clears a whole accumulator word when it reaches the word's last neuron
    /* verilator lint_off WIDTH */
    /* verilator lint_off UNUSEDSIGNAL */
    wire [NB-1:0] cnt_gw = cnt >> LP;
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_on WIDTH */
    wire a1_b = (GROUPS > 1) && a1_grp;   // a bank-B event (constant 0 with one bank: no flip-flops left)
    wire a_we = clearing || (u_commit && u1_lane_last) || (a1_valid && !a1_b);
    wire [GB-1:0] a_wa = clearing ? cnt_gw[GB-1:0] : s_addr;
    wire [PAR*ACC_BITS-1:0] a_wd = (clearing || u_commit) ? {(PAR * ACC_BITS){1'b0}} : acc_sat;
    wire v_we = clearing || u_commit;
    wire [NB-1:0] v_wa = clearing ? cnt : u1_n;
    wire [MEM_BITS-1:0] v_wd = clearing ? {MEM_BITS{1'b0}} : v_next;
    always @(posedge clk) begin
        if (a_we) amem[a_wa] <= a_wd;
        if (v_we) vmem[v_wa] <= v_wd;
    end

    // ------------------------------------------------------------------ axon groups (GROUPS = 2)
    generate
        if (GROUPS > 1) begin : g_groups
            /* verilator lint_off UNDRIVEN */
            reg gmem [0:N_AXONS-1];         // written by $readmemh only (GROUP_FILE)
            /* verilator lint_on UNDRIVEN */
            reg [PAR*ACC_BITS-1:0] bmem [0:NG-1];
            if (GROUP_FILE != "") begin : g_gload
                initial $readmemh(GROUP_FILE, gmem);
            end
            assign head_grp = gmem[f_head[AB-1:0]];
            wire [PAR*ACC_BITS-1:0] acc_word_b = bmem[s_addr];
            assign acc_word = a1_grp ? acc_word_b : acc_word_a;
            wire signed [ACC_BITS-1:0] b_rd = acc_word_b[u1_lw * ACC_BITS +: ACC_BITS];
            localparam [ACC_BITS+1:0] RHALF = (RQ_HALF > 0 && RQ_SHIFT > 0) ? (1 << (RQ_SHIFT - 1)) : 0;
            wire signed [ACC_BITS+1:0] b_x = {{2{b_rd[ACC_BITS-1]}}, b_rd};
            wire signed [ACC_BITS+1:0] b_r = (b_x + $signed(RHALF)) >>> RQ_SHIFT;
            reg first_step;                  // step 0 (bank A's bias waits GB_DELAY steps)
            always @(posedge clk) begin
                if (rst) first_step <= 1'b1;
                else if (step_done) first_step <= 1'b0;
            end
            wire signed [ACC_BITS-1:0] p_gbias = p_q[PB1 +: ACC_BITS];
            wire gb_on = (GB_DELAY == 0) || !first_step;
            wire signed [ACC_BITS+1:0] a_b = {{2{acc_rd[ACC_BITS-1]}}, acc_rd}
                                           + (gb_on ? {{2{p_gbias[ACC_BITS-1]}}, p_gbias} : {(ACC_BITS + 2){1'b0}});
            wire a_ovf = (a_b[ACC_BITS+1:ACC_BITS-1] != {3{a_b[ACC_BITS+1]}});
            wire signed [ACC_BITS-1:0] a_s = a_ovf ? {a_b[ACC_BITS+1], {(ACC_BITS - 1){~a_b[ACC_BITS+1]}}}
                                                   : a_b[ACC_BITS-1:0];
            wire signed [ACC_BITS+1:0] x_s = {{2{a_s[ACC_BITS-1]}}, a_s} + b_r;
            wire x_ovf = (x_s[ACC_BITS+1:ACC_BITS-1] != {3{x_s[ACC_BITS+1]}});
            assign x_in = x_ovf ? {x_s[ACC_BITS+1], {(ACC_BITS - 1){~x_s[ACC_BITS+1]}}} : x_s[ACC_BITS-1:0];
            wire b_we = clearing || (u_commit && u1_lane_last) || (a1_valid && a1_grp);
            always @(posedge clk) if (b_we) bmem[a_wa] <= a_wd;
        end else begin : g_one_group
            assign head_grp = 1'b0;
            assign acc_word = acc_word_a;
            assign x_in = acc_rd;
        end
    endgenerate

    // ------------------------------------------------------------------ current compartment (CUR = 1)
    wire signed [XB-1:0] x_ext = {{(XB - ACC_BITS){x_in[ACC_BITS-1]}}, x_in};
    generate
        if (CUR > 0) begin : g_cur
            reg [MEM_BITS-1:0] imem [0:N_NEURONS-1];
            wire signed [MEM_BITS-1:0] i_old = imem[u1_n];
            wire          p_cur   = p_q[PB0];
            wire signed [MEM_BITS-1:0] p_ibias = p_q[PB0 + 1 +: MEM_BITS];
            wire [SB-1:0] p_ik    = p_q[PB0 + 1 + MEM_BITS +: SB];
            wire signed [MEM_BITS-1:0] i_shr = i_old >>> p_ik;
            wire signed [MEM_BITS-1:0] i_leak = (p_ik == {SB{1'b0}}) ? {MEM_BITS{1'b0}} : i_shr;
            wire signed [XB-1:0] i_x = {{(XB - MEM_BITS){i_old[MEM_BITS-1]}}, i_old};
            wire signed [XB-1:0] i_shift = i_x - $signed({{(XB - MEM_BITS){i_leak[MEM_BITS-1]}}, i_leak});
            wire signed [XB-1:0] i_keep;
            if (FRAC_BITS > 0) begin : g_cur_mul
                wire          p_imul = p_q[PB0 + 1 + MEM_BITS + SB];
                wire [FRAC_BITS:0] p_idecay = p_q[PB0 + 2 + MEM_BITS + SB +: FRAC_BITS + 1];
                wire signed [XB-1:0] ia_x = {{(XB - FRAC_BITS - 1){1'b0}}, p_idecay};
                localparam [XB-1:0] IHALF = 1 << (FRAC_BITS - 1);
                wire signed [XB-1:0] iprod = i_x * ia_x + $signed(IHALF);
                wire signed [XB-1:0] i_dec = iprod >>> FRAC_BITS;
                assign i_keep = p_imul ? i_dec : i_shift;
            end else begin : g_cur_shift
                assign i_keep = i_shift;
            end
            wire signed [XB-1:0] i_sum = i_keep + x_ext + $signed({{(XB - MEM_BITS){p_ibias[MEM_BITS-1]}}, p_ibias});
            wire i_ovf = (i_sum[XB-1:MEM_BITS-1] != {(XB - MEM_BITS + 1){i_sum[XB-1]}});
            wire signed [MEM_BITS-1:0] i_p = i_ovf ? {i_sum[XB-1], {(MEM_BITS - 1){~i_sum[XB-1]}}}
                                                   : i_sum[MEM_BITS-1:0];
            assign x_eff = p_cur ? {{(XB - MEM_BITS){i_p[MEM_BITS-1]}}, i_p} : x_ext;
            wire [MEM_BITS-1:0] i_next = p_cur ? i_p : {MEM_BITS{1'b0}};   // 0 for neurons without one
            always @(posedge clk) if (clearing || u_commit) imem[v_wa] <= clearing ? {MEM_BITS{1'b0}} : i_next;
        end else begin : g_no_cur
            assign x_eff = x_ext;
        end
    endgenerate

    // ------------------------------------------------------------------ control
    wire last_n = (cnt == N_NEURONS[NB-1:0] - 1'b1);
    assign idle = (state == S_IDLE);

    always @(posedge clk) begin
        step_done <= 1'b0;
        if (rst) begin
            state <= S_CLEAR;
            cnt <= 0;
            issued_all <= 1'b0;
            u1_valid <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            if (out_valid && out_ready) out_valid <= 1'b0;
            if (u_commit && fire) begin
                out_valid <= 1'b1;
                out_neuron <= u1_n;
                out_sign <= fire_neg;
            end
            if (!u_stall) begin
                u1_valid <= u_issue;
                u1_n <= cnt;
            end
            case (state)
                S_CLEAR: begin
                    cnt <= cnt + 1'b1;
                    if (last_n) begin
                        cnt <= 0;
                        state <= S_IDLE;
                    end
                end
                S_IDLE: if (step) state <= S_DRAIN;
                S_DRAIN: if (f_empty && !ev_active && !a1_valid) begin
                    state <= S_UPDATE;
                    cnt <= 0;
                    issued_all <= 1'b0;
                end
                S_UPDATE: begin
                    if (u_issue) begin
                        cnt <= cnt + 1'b1;
                        if (last_n) begin
                            cnt <= 0;
                            issued_all <= 1'b1;
                        end
                    end
                    if (issued_all && !u1_valid) state <= S_FLUSH;
                end
                S_FLUSH: if (!out_valid || out_ready) begin
                    state <= S_IDLE;
                    step_done <= 1'b1;
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule

`default_nettype wire
